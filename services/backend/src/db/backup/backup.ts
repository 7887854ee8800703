import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { describeTarget, type PostgresSettings } from '../../config.ts';
import { DatabaseUnavailableError } from '../../errors.ts';
import { writeStreamAtomic } from './atomic-file.ts';
import { pgliteConnection, postgresConnection, type SqlConnection } from './connection.ts';
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
  return streamBackup(source, (_manifest, chunks) => writeStreamAtomic(out, chunks));
}

/**
 * The backup as text chunks, handed to `sink` with the manifest they start with: writeBackup
 * writes them to a file; a running server streams them to the CLI over its control socket.
 * The chunks are read from a transaction that ends when `sink` returns.
 */
export type BackupSink = (manifest: BackupManifest, chunks: AsyncIterable<string>) => Promise<void>;

export async function streamBackup(source: BackupSource, sink: BackupSink): Promise<BackupManifest> {
  return source.type === 'pglite' ? backUpPglite(source.pg, sink) : backUpPostgres(source.settings, source.pgDumpPath, sink);
}

async function backUpPglite(client: PGlite, sink: BackupSink): Promise<BackupManifest> {
  const { pgDump } = await import('@electric-sql/pglite-tools/pg_dump');
  // One read-only snapshot for the manifest and the dump. A PGlite transaction also holds the
  // instance's other queries (a running server's requests wait; pg_dump in WebAssembly runs
  // synchronously anyway), so no statement of the app can land inside pg_dump's session.
  const { manifest, dump } = await client.transaction(async (tx) => {
    await tx.query('set transaction isolation level repeatable read, read only');
    const connection = pgliteConnection(tx);
    const collected = await collectManifest(connection);
    await assertNoLineDropped(connection);
    // pg_dump's own queries go through the transaction; its wire messages straight to the instance.
    const inTransaction = { query: tx.query.bind(tx), exec: tx.exec.bind(tx), execProtocolRawStream: client.execProtocolRawStream.bind(client) } as unknown as PGlite;
    try {
      // pg_dump in WebAssembly returns the whole dump as one file in memory.
      return { manifest: collected, dump: await (await pgDump({ pg: inTransaction, args: DUMP_ARGS })).text() };
    } catch (error) {
      throw new BackupError(500, 'backup_failed', `pg_dump could not dump the embedded database: ${(error as Error).message}`, { cause: error });
    }
  });
  await sink(manifest, withHeader(manifest, linesOf([dump])));
  return manifest;
}

/**
 * pglite-tools removes pg_dump's `\restrict` / `\unrestrict` lines with a regular expression over
 * the whole output (`/^(?:\\(?:un)?restrict\b.*\r?\n?)/gim`), so a text value with a line that
 * starts that way would lose that line in the backup, silently. Such a value is refused instead,
 * naming where it is. (Only plain text columns: array and composite output doubles the backslash.)
 */
async function assertNoLineDropped(connection: SqlConnection): Promise<void> {
  const columns = await connection.query<{ table_name: string; column_name: string }>(`
    select format('%I.%I', n.nspname, c.relname) as table_name, quote_ident(a.attname) as column_name
      from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped and a.atttypid in ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype)
        and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
      order by 1, 2`);
  const byTable = new Map<string, string[]>();
  for (const { table_name: table, column_name: column } of columns) byTable.set(table, [...(byTable.get(table) ?? []), column]);
  for (const [table, tableColumns] of byTable) {
    // A line break as JavaScript's multi-line ^ knows them, then the meta-command, as a whole word, any case.
    const condition = tableColumns.map((column) => `${column} ~* '[\\n\\r\\u2028\\u2029]\\\\(un)?restrict\\y'`).join(' or ');
    const [hit] = await connection.query<{ found: boolean }>(`select exists (select 1 from ${table} where ${condition}) as found`);
    if (hit?.found) {
      throw new BackupError(
        409,
        'backup_failed',
        `A text value in ${table} has a line starting with \\restrict or \\unrestrict, which the embedded database's pg_dump (@electric-sql/pglite-tools) would drop from the backup. ` +
          'Change that line (e.g. indent it), then back up again.',
      );
    }
  }
}

async function backUpPostgres(settings: PostgresSettings, pgDumpPath: string | undefined, sink: BackupSink): Promise<BackupManifest> {
  const client = new pg.Client({ ...settings.connection, application_name: 'groundwork-backup' });
  try {
    await client.connect();
  } catch (error) {
    // node-postgres names host and cause, never the password.
    throw new DatabaseUnavailableError(`Cannot connect to PostgreSQL at ${describeTarget(settings.target)} to back it up: ${(error as Error).message}`);
  }
  try {
    const [{ server_version_num: versionNum }] = (await client.query<{ server_version_num: string }>('show server_version_num')).rows as [{ server_version_num: string }];
    const command = await findPgDump(pgDumpPath, Math.floor(Number(versionNum) / 10_000));
    // One snapshot for the manifest and for pg_dump: the header describes exactly the rows in the file.
    await client.query('begin isolation level repeatable read read only');
    const [{ snapshot }] = (await client.query<{ snapshot: string }>('select pg_export_snapshot() as snapshot')).rows as [{ snapshot: string }];
    const manifest = await collectManifest(postgresConnection(client));
    await sink(manifest, withHeader(manifest, pgDumpLines(command, settings, snapshot)));
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
