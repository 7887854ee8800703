import { param, sql } from 'drizzle-orm';
import { insertableColumns, type SequenceInfo, type TableShape } from './catalog.ts';
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
  reads: 'cursor' | 'pages',
  batchRows: number,
  onRows: (done: number) => void,
): Promise<number> {
  const insertable = insertableColumns(table);
  let done = 0;
  for await (const batch of reads === 'cursor' ? cursorBatches(source, table, batchRows) : pageBatches(source, table)) {
    if (batch.length === 0) continue;
    await target.execute(
      sql`insert into ${sql.raw(table.qualified)} (${sql.raw(insertable)}) overriding system value select ${sql.raw(insertable)} from unnest(${param(batch)}::text[]::${sql.raw(table.qualified)}[])`,
    );
    done += batch.length;
    onRows(done);
  }
  return done;
}

function rowText(table: TableShape): string {
  return `row(${table.columns.map((column) => quoteIdent(column.name)).join(', ')})::text as r`;
}

/** Through a cursor: needs the caller's transaction (the snapshot). */
async function* cursorBatches(source: Executor, table: TableShape, batchRows: number): AsyncGenerator<string[]> {
  await rowsOf(source, `declare ${CURSOR} no scroll cursor for select ${rowText(table)} from ${table.qualified}`);
  try {
    for (;;) {
      const batch = await rowsOf<{ r: string }>(source, `fetch ${batchRows} from ${CURSOR}`);
      yield batch.map((row) => row.r);
      if (batch.length < batchRows) break;
    }
  } finally {
    await rowsOf(source, `close ${CURSOR}`);
  }
}

/** Pages of the table's heap read at a time (512 kB): each read is one statement on its own (a TID range scan). */
const PAGES_PER_BATCH = 64;

/** Without a transaction between reads: the table's pages in order, a range at a time. For a source nobody writes meanwhile. */
async function* pageBatches(source: Executor, table: TableShape): AsyncGenerator<string[]> {
  const [size] = await rowsOf<{ pages: number }>(source, sql`select (pg_relation_size(${table.qualified}::regclass) / current_setting('block_size')::int)::int as pages`);
  for (let first = 0; first < Number(size!.pages); first += PAGES_PER_BATCH) {
    const range = sql.raw(`ctid >= '(${first},0)'::tid and ctid < '(${first + PAGES_PER_BATCH},0)'::tid`);
    yield (await rowsOf<{ r: string }>(source, sql`select ${sql.raw(rowText(table))} from ${sql.raw(table.qualified)} where ${range}`)).map((row) => row.r);
  }
}

export interface TableSum {
  rows: number;
  checksum: string;
}

/**
 * Row count and a checksum of every row's text rendering: the sum (exact, numeric) of each row's
 * 64-bit hash. A sum does not depend on the rows' order, so neither side sorts or holds the rows,
 * and both agree whatever their physical order. The hash is PostgreSQL's own (hashtextextended, as
 * hash partitioning uses; bytes hashed as they are under "C"): several times cheaper in PGlite than
 * md5 turned into numbers. Same columns, same order on both sides.
 */
export async function tableChecksum(db: Executor, table: TableShape): Promise<TableSum> {
  const all = table.columns.map((column) => quoteIdent(column.name)).join(', ');
  const [sum] = await rowsOf<{ rows: number; checksum: string }>(
    db,
    `select count(*)::int as rows, coalesce(sum(hashtextextended(row(${all})::text collate "C", 0)), 0)::text as checksum from ${table.qualified}`,
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
