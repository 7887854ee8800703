import { sql, type SQL } from 'drizzle-orm';
import type { AppDatabase } from '../index.ts';

/** A database or a transaction of one: what the move runs its statements on. */
export type Executor = Pick<AppDatabase, 'execute'>;

/** Rows of a statement, whichever driver runs it (both answer `{ rows }`). */
export async function rowsOf<Row>(db: Executor, query: SQL | string): Promise<Row[]> {
  const result = await db.execute(typeof query === 'string' ? sql.raw(query) : query);
  return (result as unknown as { rows: Row[] }).rows;
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Text renderings the checksums compare must not depend on a session's defaults: the same time
 * zone and styles on both sides (PGlite and the server may default differently). Transaction-local.
 */
export async function useStableRendering(db: Executor): Promise<void> {
  for (const setting of ["timezone = 'UTC'", "datestyle = 'ISO, MDY'", "intervalstyle = 'postgres'", 'extra_float_digits = 1', "bytea_output = 'hex'"]) {
    await db.execute(sql.raw(`set local ${setting}`));
  }
}
