import { param, sql } from 'drizzle-orm';
import type { SequenceInfo, TableShape } from './catalog.ts';
import { quoteIdent, rowsOf, type Executor } from './sql.ts';

const CURSOR = 'groundwork_move_rows';

/**
 * Streams one table's rows from the source into the target, `batchRows` at a time through a
 * cursor (never the whole table in memory). Rows travel as their text rendering, which every
 * PostgreSQL type reads back exactly; the target's row type parses them. Columns are named in the
 * target's order, so a table whose columns were added in another order still lines up.
 */
export async function copyTable(
  source: Executor,
  target: Executor,
  table: TableShape,
  batchRows: number,
  onRows: (done: number) => void,
): Promise<number> {
  const all = table.columns.map((column) => quoteIdent(column.name)).join(', ');
  // Generated columns compute themselves; identity columns take the copied value.
  const insertable = table.columns.filter((column) => !column.generated).map((column) => quoteIdent(column.name)).join(', ');
  await rowsOf(source, `declare ${CURSOR} no scroll cursor for select row(${all})::text as r from ${table.qualified}`);
  let done = 0;
  try {
    for (;;) {
      const batch = await rowsOf<{ r: string }>(source, `fetch ${batchRows} from ${CURSOR}`);
      if (batch.length === 0) break;
      await target.execute(
        sql`insert into ${sql.raw(table.qualified)} (${sql.raw(insertable)}) overriding system value select ${sql.raw(insertable)} from unnest(${param(batch.map((row) => row.r))}::text[]::${sql.raw(table.qualified)}[])`,
      );
      done += batch.length;
      onRows(done);
      if (batch.length < batchRows) break;
    }
  } finally {
    await rowsOf(source, `close ${CURSOR}`);
  }
  return done;
}

export interface TableSum {
  rows: number;
  checksum: string;
}

/**
 * Row count and an md5 over every row's text rendering, the rows ordered by their own hash (no
 * collation or key order involved, so both sides agree). Same columns, same order on both sides.
 */
export async function tableChecksum(db: Executor, table: TableShape): Promise<TableSum> {
  const all = table.columns.map((column) => quoteIdent(column.name)).join(', ');
  const [sum] = await rowsOf<{ rows: number; checksum: string }>(
    db,
    `select count(*)::int as rows, coalesce(md5(string_agg(h, '' order by h collate "C")), '') as checksum
       from (select md5(row(${all})::text) as h from ${table.qualified}) hashed`,
  );
  return { rows: Number(sum!.rows), checksum: sum!.checksum };
}

/**
 * Sets each sequence of the target where the source's is, and never below the highest value of the
 * column it feeds: the next row inserted gets the next id.
 */
export async function copySequences(source: Executor, target: Executor, sequences: readonly SequenceInfo[]): Promise<void> {
  for (const { sequence, ownerTable, ownerColumn } of sequences) {
    const [state] = await rowsOf<{ last: string; called: boolean }>(source, `select last_value::text as last, is_called as called from ${sequence}`);
    const candidates = state!.called ? [BigInt(state!.last)] : [];
    if (ownerTable && ownerColumn) {
      const [highest] = await rowsOf<{ max: string | null }>(target, `select max(${ownerColumn})::text as max from ${ownerTable}`);
      if (highest?.max != null) candidates.push(BigInt(highest.max));
    }
    const value = candidates.length > 0 ? candidates.reduce((a, b) => (a > b ? a : b)) : BigInt(state!.last);
    await target.execute(sql`select setval(${sequence}::regclass, ${value.toString()}::bigint, ${candidates.length > 0})`);
  }
}
