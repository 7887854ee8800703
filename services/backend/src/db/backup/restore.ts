import { createReadStream } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { compareWithJournal, readJournal } from '../migrations.ts';
import { pgliteConnection, postgresConnection, type SqlConnection } from './connection.ts';
import { BackupError } from './errors.ts';
import { readBackupManifest, type BackupManifest } from './manifest.ts';
import { linesOf, statementBatches } from './sql-script.ts';

/** Where to restore: an open PGlite, or one node-postgres connection (the restore is one transaction on it). */
export type RestoreTarget = { type: 'pglite'; pg: PGlite } | { type: 'postgresql'; client: pg.ClientBase };

/**
 * The backup's migrations against this code's: the tags of the ones the code has and the backup
 * lacks (the migrator applies them after the restore). A backup with a migration the code does
 * not know was made by a newer version: refused. So is one whose history diverged from the code's
 * (it lacks a migration the code ships before one it has), with the check boot makes.
 */
export function compareMigrations(manifest: BackupManifest): { pending: string[] } {
  const journal = readJournal();
  const known = new Set(journal.map((entry) => entry.when));
  const unknown = manifest.migrations.filter((migration) => !known.has(migration.createdAt));
  if (unknown.length > 0) {
    throw new BackupError(
      409,
      'backup_newer_than_code',
      `The backup was made by a newer Groundwork (${manifest.appVersion}): it has migration ${unknown.map((migration) => migration.tag).join(', ')}, ` +
        `which this version does not know (its latest is ${journal.at(-1)?.tag ?? 'none'}). Restore it with Groundwork ${manifest.appVersion} or newer.`,
    );
  }
  const applied = manifest.migrations.map((migration) => ({ createdAt: migration.createdAt })).sort((a, b) => a.createdAt - b.createdAt);
  compareWithJournal(applied, journal, 'The backup');
  const inBackup = new Set(manifest.migrations.map((migration) => migration.createdAt));
  return { pending: journal.filter((entry) => !inBackup.has(entry.when)).map((entry) => entry.tag) };
}

/** Throws, naming what is there, unless the database has no tables, sequences or schemas of its own. */
export async function assertEmpty(connection: SqlConnection, where: string): Promise<void> {
  const found = await connection.query<{ name: string }>(`
    select format('%I.%I', n.nspname, c.relname) as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p', 'v', 'm', 'S', 'f') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
    union all
    select format('schema %I', nspname) from pg_namespace
      where nspname not in ('public', 'pg_catalog', 'information_schema') and nspname not like 'pg\\_%'
    order by 1`);
  if (found.length === 0) return;
  const names = found.map((row) => row.name);
  const shown = names.length > 10 ? `${names.slice(0, 10).join(', ')} and ${names.length - 10} more` : names.join(', ');
  throw new BackupError(409, 'restore_target_not_empty', `${where} is not empty (${shown}). A backup is only restored into an empty database: use a new one, or empty this one first.`);
}

/**
 * Restores `file` into the empty `target`, in one transaction: a failure leaves it empty. Checks
 * first that the backup's migrations are not newer than the code and that the target is empty.
 * Applying the code's newer migrations and writing db.selection.json are the caller's.
 */
export async function restoreBackup(file: string, target: RestoreTarget, where: string): Promise<BackupManifest> {
  const manifest = await readBackupManifest(file);
  compareMigrations(manifest);
  const connection = target.type === 'pglite' ? pgliteConnection(target.pg) : postgresConnection(target.client);
  await assertEmpty(connection, where);
  await connection.execute('begin');
  try {
    for await (const batch of statementBatches(linesOf(createReadStream(file)))) await connection.execute(batch);
    await connection.execute('commit');
  } catch (error) {
    await connection.execute('rollback').catch(() => {});
    if (error instanceof BackupError) throw error;
    throw new BackupError(500, 'backup_failed', `Restoring ${file} failed, nothing was kept: ${(error as Error).message}`, { cause: error });
  } finally {
    // The dump sets session settings (an empty search_path among them): back to the defaults for what comes next.
    await connection.execute('reset all').catch(() => {});
  }
  return manifest;
}
