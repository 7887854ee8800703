/**
 * `npm run db:restore -- FILE [--to pglite|postgresql]`: sets up an instance that is not set up
 * yet (no db.selection.json) from a backup made by `npm run db:backup`, into the database type
 * given by --to or DB_TYPE. Like setup, it writes db.selection.json last.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { loadConfig } from '../config.ts';
import { compareMigrations, readBackupManifest, restoreBackup } from '../db/backup/index.ts';
import { openDriver, type ExclusiveSession } from '../db/drivers/index.ts';
import { readSelection, SELECTION_FORMAT_VERSION, writeSelection } from '../db/selection.ts';
import { EncryptionKeys } from '../global-settings/keys.ts';
import { DATABASE_TYPES, type DatabaseType } from '../schemas/database.ts';
import { assertDataFolder } from '../storage.ts';
import { cliLog, runCli } from './instance-database.ts';

const USAGE = 'Usage: npm run db:restore -- FILE [--to pglite|postgresql]';

runCli(async () => {
  const { values, positionals } = parseArgs({ options: { to: { type: 'string' } }, allowPositionals: true });
  if (positionals.length !== 1) throw new Error(USAGE);
  const file = resolve(positionals[0]!);
  const config = loadConfig();
  const type = (values.to ?? config.dbType) as DatabaseType | null;
  if (!type) throw new Error(`Which database should the backup go into? Pass --to pglite or --to postgresql, or set DB_TYPE. ${USAGE}`);
  if (!DATABASE_TYPES.includes(type)) throw new Error(`--to must be pglite or postgresql, not "${type}". ${USAGE}`);

  assertDataFolder(config.persistentDataDir);
  const selection = readSelection(config.persistentDataDir);
  if (selection.status !== 'missing') {
    throw new Error(`This instance is already set up (${config.persistentDataDir}/db.selection.json exists): restore into a new PERSISTENT_DATA_DIR, or remove that file first if you really mean to replace the instance.`);
  }

  // Everything that can be checked without touching the target, first.
  const manifest = await readBackupManifest(file);
  const { pending } = compareMigrations(manifest);
  if (manifest.encryption) {
    try {
      await new EncryptionKeys(config, cliLog).resolve(manifest.encryption);
    } catch (error) {
      throw new Error(`The backup's secret settings cannot be read with this instance's key. ${(error as Error).message}`, { cause: error });
    }
  }

  const driver = await openDriver(type, config, cliLog);
  let session: ExclusiveSession | null = null;
  let succeeded = false;
  try {
    session = await driver.lock();
    // Drizzle keeps the client it was made with: the PGlite this process opened, or the locked connection.
    const client = (session.db as unknown as { $client: PGlite | pg.ClientBase }).$client;
    const target = type === 'pglite' ? { type, pg: client as PGlite } : { type, client: client as pg.ClientBase };
    await restoreBackup(file, target, `The ${type} database at ${driver.target}`);
    if (pending.length > 0) {
      try {
        await session.migrate();
      } catch (error) {
        throw new Error(
          `The backup was restored, but this version's newer migrations (${pending.join(', ')}) failed: ${(error as Error).message}. ` +
            (type === 'pglite' ? 'Nothing was kept.' : `The database at ${driver.target} now holds the backup: empty it before restoring again.`),
          { cause: error },
        );
      }
    }
    writeSelection(config.persistentDataDir, { type, selectedAt: new Date().toISOString(), version: SELECTION_FORMAT_VERSION });
    succeeded = true;
  } finally {
    await session?.release();
    // A PGlite folder this command created goes again when anything failed.
    await driver.close({ discardNew: !succeeded });
  }
  console.log(
    `Restored ${file} (Groundwork ${manifest.appVersion}, made ${manifest.createdAt}) into the ${type} database at ${driver.target}` +
      `${pending.length > 0 ? `, then applied ${pending.length} newer migration(s)` : ''}. Start the server: npm start`,
  );
});
