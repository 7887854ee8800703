import { readMigrationFiles } from 'drizzle-orm/migrator';
import { MIGRATIONS_DIR } from '../../paths.ts';
import { statementsToCreate } from '../../plugins/schema-sync.ts';
import type { TableShape } from './catalog.ts';
import { MoveRefusedError } from './errors.ts';
import { rowsOf, type Executor } from './sql.ts';

/**
 * Builds in `target` (inside the caller's transaction, so an interruption leaves nothing) the schema
 * the source has: the same migrations from this release's `drizzle/` folder, applied as Drizzle's
 * migrator does, up to the last one the source applied; then each plugin's tables as its stored
 * snapshot describes them. No rows: the copy brings every row, the bookkeeping tables' included.
 * Drizzle's migrator itself cannot be used here: it commits its own transaction.
 */
export async function buildSchema(source: Executor, target: Executor, sourceTables: readonly TableShape[]): Promise<void> {
  const has = (name: string) => sourceTables.some((table) => table.name === name);
  if (!has('drizzle.__drizzle_migrations')) throw new MoveRefusedError('The source database has no migrations table: it was never set up by Groundwork.');

  const applied = await rowsOf<{ created_at: string }>(source, 'select created_at::text from drizzle.__drizzle_migrations order by created_at');
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_DIR });
  const known = new Set(migrations.map((migration) => String(migration.folderMillis)));
  const unknown = applied.filter((row) => !known.has(row.created_at));
  if (unknown.length > 0) {
    throw new MoveRefusedError(
      `The source database has ${unknown.length} migration(s) this release does not have (it was last run by a newer Groundwork): move it with that release.`,
    );
  }
  const lastApplied = Math.max(0, ...applied.map((row) => Number(row.created_at)));

  // Drizzle's bookkeeping table, exactly as its migrator creates it.
  await rowsOf(target, 'create schema if not exists "drizzle"');
  await rowsOf(target, 'create table if not exists "drizzle"."__drizzle_migrations" (id serial primary key, hash text not null, created_at bigint)');
  for (const migration of migrations) {
    if (migration.folderMillis > lastApplied) continue;
    for (const statement of migration.sql) if (statement.trim()) await rowsOf(target, statement);
  }

  if (!has('public.plugin_schemas')) return;
  const plugins = await rowsOf<{ plugin_id: string; snapshot: string }>(source, 'select plugin_id, snapshot::text as snapshot from plugin_schemas order by plugin_id');
  for (const plugin of plugins) {
    for (const statement of await statementsToCreate(JSON.parse(plugin.snapshot))) await rowsOf(target, statement);
  }
}
