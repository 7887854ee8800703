import { createReadStream } from 'node:fs';
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { DATABASE_TYPES } from '../../schemas/database.ts';
import { APP_VERSION } from '../../version.ts';
import { readJournal } from '../migrations.ts';
import type { SqlConnection } from './connection.ts';
import { BackupError } from './errors.ts';
import { linesOf } from './sql-script.ts';

const BACKUP_FORMAT_VERSION = 1;
const MANIFEST_PREFIX = '-- Groundwork-Manifest: ';
// The header is a handful of comment lines; a file without the manifest in its first lines is not a Groundwork backup.
const HEADER_MAX_LINES = 50;

/** What a backup records about the instance it came from, in its header. Never a secret. */
const BackupManifestSchema = Type.Object({
  format: Type.Literal(BACKUP_FORMAT_VERSION),
  appVersion: Type.String(),
  databaseType: Type.Enum(DATABASE_TYPES),
  createdAt: Type.String(),
  /** Drizzle's applied migrations: the journal tag and the `created_at` Drizzle keys them by. */
  migrations: Type.Array(Type.Object({ tag: Type.String(), createdAt: Type.Number() })),
  plugins: Type.Array(Type.Object({ id: Type.String(), version: Type.String() })),
  /** Which key encrypted the secret settings (its id, never the key), and the salt for a key from ENCRYPTION_SECRET. */
  encryption: Type.Union([Type.Object({ keyId: Type.String(), kdfSalt: Type.Union([Type.String(), Type.Null()]) }), Type.Null()]),
});
export type BackupManifest = Static<typeof BackupManifestSchema>;

/** Reads the manifest from the instance's own tables. Refuses a database that was never set up. */
export async function collectManifest(connection: SqlConnection): Promise<BackupManifest> {
  const [present] = await connection.query<{ migrations: boolean; setup: boolean }>(
    "select to_regclass('drizzle.__drizzle_migrations') is not null as migrations, to_regclass('public.setup_record') is not null as setup",
  );
  if (!present?.migrations || !present.setup) throw new BackupError(409, 'backup_failed', 'This database has no Groundwork tables: set the instance up before backing it up.');
  const journal = readJournal();
  const applied = await connection.query<{ created_at: string | number }>('select created_at from drizzle.__drizzle_migrations order by id');
  const plugins = await connection.query<{ plugin_id: string; version: string }>('select plugin_id, version from plugin_schemas order by plugin_id');
  const [key] = await connection.query<{ key_id: string; kdf_salt: string | null }>('select key_id, kdf_salt from settings_encryption');
  return {
    format: BACKUP_FORMAT_VERSION,
    appVersion: APP_VERSION,
    databaseType: connection.type,
    createdAt: new Date().toISOString(),
    migrations: applied.map((row) => {
      const createdAt = Number(row.created_at);
      return { tag: journal.find((entry) => entry.when === createdAt)?.tag ?? `unknown-${createdAt}`, createdAt };
    }),
    plugins: plugins.map((row) => ({ id: row.plugin_id, version: row.version })),
    encryption: key ? { keyId: key.key_id, kdfSalt: key.kdf_salt } : null,
  };
}

/** The comment lines at the top of a backup: for people first, then the same as one JSON line for restore. */
export function formatHeader(manifest: BackupManifest): string {
  const lines = [
    'Groundwork backup (plain SQL).',
    'Restore: npm run db:restore -- FILE, or psql -v ON_ERROR_STOP=1 -d <an empty database> -f FILE',
    `App version: ${manifest.appVersion}`,
    `Database type: ${manifest.databaseType}`,
    `Created at: ${manifest.createdAt}`,
    `Migrations applied: ${manifest.migrations.map((migration) => migration.tag).join(', ') || 'none'}`,
    `Plugins: ${manifest.plugins.map((plugin) => `${plugin.id} ${plugin.version}`).join(', ') || 'none'}`,
    `Encryption key id: ${manifest.encryption?.keyId ?? 'none'} (the key is not in this file: keep ENCRYPTION_SECRET or encryption.key safe, apart from it)`,
  ];
  return `${lines.map((line) => `-- ${line}`).join('\n')}\n${MANIFEST_PREFIX}${JSON.stringify(manifest)}\n\n`;
}

/** The manifest from a backup file's header; a clear error for a file that is not a Groundwork backup. */
export async function readBackupManifest(file: string): Promise<BackupManifest> {
  let count = 0;
  let stream;
  let manifestLine: string | null = null;
  try {
    stream = createReadStream(file);
    for await (const line of linesOf(stream)) {
      if (line.startsWith(MANIFEST_PREFIX)) manifestLine = line.slice(MANIFEST_PREFIX.length);
      if (manifestLine !== null || ++count >= HEADER_MAX_LINES || !line.startsWith('--')) break;
    }
  } catch (error) {
    throw new BackupError(400, 'backup_invalid', `Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`, { cause: error });
  } finally {
    stream?.destroy();
  }
  if (manifestLine !== null) return parseManifest(file, manifestLine);
  throw new BackupError(400, 'backup_invalid', `${file} is not a Groundwork backup: its header has no "${MANIFEST_PREFIX.slice(3, -2)}" line. Make backups with npm run db:backup.`);
}

function parseManifest(file: string, json: string): BackupManifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new BackupError(400, 'backup_invalid', `The manifest line in ${file} is not valid JSON: the header was changed or cut.`);
  }
  if (!Value.Check(BackupManifestSchema, parsed)) {
    const format = (parsed as { format?: unknown } | null)?.format;
    if (typeof format === 'number' && format > BACKUP_FORMAT_VERSION) {
      throw new BackupError(409, 'backup_newer_than_code', `${file} is in backup format ${format}, newer than this version understands (${BACKUP_FORMAT_VERSION}): restore it with a newer Groundwork.`);
    }
    const first = Value.Errors(BackupManifestSchema, parsed)[0];
    throw new BackupError(400, 'backup_invalid', `The manifest in ${file} is not one this version understands (${first?.instancePath || '/'}: ${first?.message ?? 'unexpected content'}).`);
  }
  return parsed;
}
