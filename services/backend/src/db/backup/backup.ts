import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { PostgresSettings } from '../../config.ts';
import { writeStreamAtomic } from './atomic-file.ts';
import { pgliteConnection, postgresConnection } from './connection.ts';
import { BackupError } from './errors.ts';
import { collectManifest, formatHeader, type BackupManifest } from './manifest.ts';
import { DUMP_ARGS, findPgDump, pgDumpLines } from './pg-dump.ts';
import { linesOf, restorableOnOlderServers } from './sql-script.ts';

/** The database to back up: an open PGlite (the caller holds it), or a PostgreSQL server pg_dump can reach. */
export type BackupSource =
  | { type: 'pglite'; pg: PGlite }
  | { type: 'postgresql'; settings: PostgresSettings; /** pg_dump to run instead of the one on the PATH. */ pgDumpPath?: string };

/**
 * Writes a plain-SQL backup of the whole database to `out` (atomically, mode 0600: it holds token
 * hashes and encrypted secrets): a header with the manifest, then pg_dump's output. `psql -v
 * ON_ERROR_STOP=1` restores it into an empty PostgreSQL 14 or newer; so does restoreBackup.
 */
export async function writeBackup(source: BackupSource, out: string): Promise<BackupManifest> {
  return source.type === 'pglite' ? backUpPglite(source.pg, out) : backUpPostgres(source.settings, source.pgDumpPath, out);
}

async function backUpPglite(client: PGlite, out: string): Promise<BackupManifest> {
  // The caller holds the database exclusively (the lock file), so the manifest and the dump see the same data.
  const manifest = await collectManifest(pgliteConnection(client));
  const { pgDump } = await import('@electric-sql/pglite-tools/pg_dump');
  let dump: string;
  try {
    // pg_dump in WebAssembly returns the whole dump as one file in memory.
    dump = await (await pgDump({ pg: client, args: DUMP_ARGS })).text();
  } catch (error) {
    throw new BackupError(500, 'backup_failed', `pg_dump could not dump the embedded database: ${(error as Error).message}`, { cause: error });
  }
  await writeStreamAtomic(out, withHeader(manifest, linesOf([dump])));
  return manifest;
}

async function backUpPostgres(settings: PostgresSettings, pgDumpPath: string | undefined, out: string): Promise<BackupManifest> {
  const client = new pg.Client({ ...settings.connection, application_name: 'groundwork-backup' });
  await client.connect();
  try {
    const [{ server_version_num: versionNum }] = (await client.query<{ server_version_num: string }>('show server_version_num')).rows as [{ server_version_num: string }];
    const command = await findPgDump(pgDumpPath, Math.floor(Number(versionNum) / 10_000));
    // One snapshot for the manifest and for pg_dump: the header describes exactly the rows in the file.
    await client.query('begin isolation level repeatable read read only');
    const [{ snapshot }] = (await client.query<{ snapshot: string }>('select pg_export_snapshot() as snapshot')).rows as [{ snapshot: string }];
    const manifest = await collectManifest(postgresConnection(client));
    await writeStreamAtomic(out, withHeader(manifest, pgDumpLines(command, settings, snapshot)));
    await client.query('commit');
    return manifest;
  } finally {
    await client.end().catch(() => {});
  }
}

async function* withHeader(manifest: BackupManifest, dumpLines: AsyncIterable<string>): AsyncGenerator<string> {
  yield formatHeader(manifest);
  // Joined into larger chunks: one stream write per line would be slow for big tables.
  let chunk = '';
  for await (const line of restorableOnOlderServers(dumpLines)) {
    chunk += `${line}\n`;
    if (chunk.length >= 1 << 16) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
