/**
 * Moves every row of one Groundwork database into another, empty one (PGlite ↔ PostgreSQL):
 * build the schema → copy → verify, all in ONE transaction on the target, so an interruption at any
 * moment leaves the target as it was. The caller switches db.selection.json afterwards (last).
 * The CLI (`npm run db:move`) uses it with the servers stopped; a running server can use it too.
 */
import type { DatabaseDriver } from '../drivers/types.ts';
import { buildSchema } from './build-schema.ts';
import { readForeignKeys, readSequences, readTables, shapeDifferences, type TableShape } from './catalog.ts';
import { copyTableInBulk, DEFAULT_CHUNK_PAGES, SHARED_CHUNK_PAGES } from './bulk-copy.ts';
import { copySequences, copyTable, tableChecksum, type TableSum } from './copy.ts';
import { quoteIdent, rowsOf, useStableRendering, type Executor } from './sql.ts';

import { MoveRefusedError, MoveVerificationError, TargetNotEmptyError } from './errors.ts';

export { MoveRefusedError, MoveVerificationError, TargetNotEmptyError } from './errors.ts';

export type MoveStage = 'building' | 'copying' | 'verifying';

interface MoveOptions {
  source: DatabaseDriver;
  target: DatabaseDriver;
  /** After every batch: rows of `table` copied so far, of `total`. */
  onProgress?(table: string, done: number, total: number): void;
  /** As each stage begins (awaited). */
  onStage?(stage: MoveStage): void | Promise<void>;
  /** Rows per batch read from the source and inserted into the target (when COPY is not used). */
  batchRows?: number;
  /** PGlite into PostgreSQL (COPY on both sides): heap pages of the source per chunk. */
  chunkPages?: number;
  /**
   * How the source is read. 'snapshot' (the default): one read-only transaction for the whole
   * move, every table as of one moment. 'per-statement': each read in its own short transaction,
   * for a running server that blocks its own writes meanwhile; a PGlite source then serves the
   * server's other queries between two reads instead of holding them for the whole move (a PGlite
   * transaction holds every other query of its instance). Rows that changed anyway fail the
   * verification, which reads the source again at the end.
   */
  sourceReads?: 'snapshot' | 'per-statement';
}

interface MoveReport {
  /** Where the rows went, for messages. */
  target: string;
  tables: ({ name: string } & TableSum)[];
  rows: number;
  sequences: number;
  /** The target already held an exact copy (a move that committed but did not switch): nothing was written. */
  alreadyCopied: boolean;
  durationMs: number;
}

const DEFAULT_BATCH_ROWS = 2_000;

export async function moveDatabase(options: MoveOptions): Promise<MoveReport> {
  const started = performance.now();
  const { source: sourceDriver, target: targetDriver } = options;
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  const session = await targetDriver.lock();
  try {
    const perStatement = options.sourceReads === 'per-statement';
    const readSource = async <T>(work: (source: Executor) => Promise<T>): Promise<T> => {
      if (perStatement) return work(shortTransactions(sourceDriver.db));
      // One snapshot of the source for the whole move: every table as of the same moment.
      return sourceDriver.db.transaction(
        async (source) => {
          await useStableRendering(source);
          return work(source);
        },
        { isolationLevel: 'repeatable read', accessMode: 'read only' },
      );
    };
    return await readSource(
      async (source) => {
        const sourceTables = await readTables(source);
        return await session.db.transaction(async (target) => {
          await useStableRendering(target);
          const report = (tables: MoveReport['tables'], sequences: number, alreadyCopied: boolean): MoveReport => ({
            target: targetDriver.target,
            tables,
            rows: tables.reduce((sum, table) => sum + table.rows, 0),
            sequences,
            alreadyCopied,
            durationMs: Math.round(performance.now() - started),
          });

          const existing = await readTables(target);
          if (existing.length > 0) {
            const copied = await sameContent(source, target, sourceTables, existing);
            if (!copied) throw notEmpty(targetDriver.target, existing);
            return report(copied, 0, true);
          }

          await options.onStage?.('building');
          await buildSchema(source, target, sourceTables);
          const built = await readTables(target);
          const problems = shapeDifferences(sourceTables, built);
          if (problems.length > 0) throw new MoveRefusedError(`The new database would not match this one: ${problems.join('; ')}.`);

          await options.onStage?.('copying');
          // Foreign keys come off for the copy (rows arrive in any order) and are added back
          // after it, which checks every row against them once.
          const foreignKeys = await readForeignKeys(target);
          // PGlite into PostgreSQL: COPY on both sides. Otherwise rows in batches (copy.ts).
          const bulk = sourceDriver.type === 'pglite' ? session.copyFrom : undefined;
          for (const key of foreignKeys) await rowsOf(target, `alter table ${key.table} drop constraint ${quoteIdent(key.name)}`);
          for (const table of built) {
            const [{ total } = { total: 0 }] = await rowsOf<{ total: number }>(source, `select count(*)::int as total from ${table.qualified}`);
            options.onProgress?.(table.name, 0, Number(total));
            const onRows = (done: number) => options.onProgress?.(table.name, done, Number(total));
            if (bulk) await copyTableInBulk(source, bulk, table, options.chunkPages ?? (perStatement ? SHARED_CHUNK_PAGES : DEFAULT_CHUNK_PAGES), onRows);
            else await copyTable(source, target, table, perStatement ? 'pages' : 'cursor', batchRows, onRows);
          }
          for (const key of foreignKeys) await rowsOf(target, `alter table ${key.table} add constraint ${quoteIdent(key.name)} ${key.definition}`);
          const sequences = await readSequences(target);
          await copySequences(source, target, sequences);

          await options.onStage?.('verifying');
          const { tables, mismatches } = await compareTables(source, target, built);
          if (mismatches.length > 0) throw new MoveVerificationError(`The copy does not match the source, nothing was kept: ${mismatches.join('; ')}.`);
          return report(tables, sequences.length, false);
        });
      },
    );
  } finally {
    await session.release();
  }
}

/** Runs every statement in its own short read-only transaction, with the stable renderings the checksums need. */
function shortTransactions(db: DatabaseDriver['db']): Executor {
  return {
    execute: ((query: Parameters<Executor['execute']>[0]) =>
      db.transaction(
        async (tx) => {
          await useStableRendering(tx);
          return tx.execute(query);
        },
        { accessMode: 'read only' },
      )) as Executor['execute'],
  };
}

/** Row count and checksum of every table on both sides; the tables that differ, in words. */
async function compareTables(source: Executor, target: Executor, tables: readonly TableShape[]) {
  const compared: MoveReport['tables'] = [];
  const mismatches: string[] = [];
  for (const table of tables) {
    // Two engines, two processes (or a process and the in-process PGlite): both sides at once.
    const [after, before] = await Promise.all([tableChecksum(target, table), tableChecksum(source, table)]);
    compared.push({ name: table.name, ...before });
    if (before.rows !== after.rows) mismatches.push(`${table.name} has ${before.rows} row(s) but ${after.rows} arrived`);
    else if (before.checksum !== after.checksum) mismatches.push(`${table.name}: same ${before.rows} row(s) but different content`);
  }
  return { tables: compared, mismatches };
}

/**
 * A target that is not empty may hold what an earlier run of this move committed before it could
 * switch (interrupted in between): then it is an exact copy, and the move only has to switch.
 */
async function sameContent(source: Executor, target: Executor, sourceTables: readonly TableShape[], existing: readonly TableShape[]) {
  if (shapeDifferences(sourceTables, existing).length > 0) return null;
  const { tables, mismatches } = await compareTables(source, target, existing);
  return mismatches.length === 0 ? tables : null;
}

function notEmpty(where: string, tables: readonly TableShape[]): TargetNotEmptyError {
  const names = tables.slice(0, 8).map((table) => table.name);
  const more = tables.length > names.length ? ` and ${tables.length - names.length} more` : '';
  return new TargetNotEmptyError(
    `The database at ${where} is not empty: it has ${tables.length} table(s) (${names.join(', ')}${more}). A move only goes into an empty database: choose another, or empty it first.`,
  );
}
