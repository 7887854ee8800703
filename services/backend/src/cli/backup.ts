/**
 * `npm run db:backup -- --out FILE`: writes a plain-SQL backup of this instance's database (see
 * src/db/backup). PGlite: through the running server's control socket when it runs (it holds the
 * folder), else this command opens the folder itself, under its lock. PostgreSQL: any time, with pg_dump.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeTarget, loadConfig } from '../config.ts';
import { callRunningServer } from '../control/client.ts';
import { BackupError, writeBackup, writeStreamAtomic, type BackupManifest } from '../db/backup/index.ts';
import { PostgresNotConfiguredError } from '../db/drivers/index.ts';
import { instanceDatabaseType, runCli, withInstanceDatabase } from './instance-database.ts';

runCli(async () => {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  if (!values.out) throw new Error('Usage: npm run db:backup -- --out FILE');
  const out = resolve(values.out);
  const config = loadConfig();
  const type = instanceDatabaseType(config);
  let manifest: BackupManifest;
  let where: string;
  const server = type === 'pglite' ? await callRunningServer(config.persistentDataDir, 'backup') : null;
  if (server) {
    // The running server holds the folder: it dumps its own database and streams the SQL here.
    let received: BackupManifest | null = null;
    await writeStreamAtomic(
      out,
      (async function* () {
        for await (const event of server) {
          if (event.type === 'manifest') received = event.manifest;
          else if (event.type === 'sql') yield event.chunk;
        }
      })(),
    );
    if (!received) throw new BackupError(500, 'backup_failed', 'The running server sent no backup.');
    manifest = received;
    where = `${config.persistentDataDir} (through the running server)`;
  } else if (type === 'pglite') {
    // Opened like every command opens it: the lock file keeps a running server's folder safe.
    ({ manifest, where } = await withInstanceDatabase(async ({ driver }) => ({
      manifest: await writeBackup({ type, pg: driver.pglite! }, out),
      where: driver.target,
    })));
  } else {
    // No schema lock: pg_dump reads one snapshot, and a long backup must not hold up a replica's boot.
    if (!config.postgres) throw new PostgresNotConfiguredError();
    manifest = await writeBackup({ type, settings: config.postgres, pgDumpPath: process.env.PG_DUMP_PATH || undefined }, out);
    where = describeTarget(config.postgres.target);
  }
  console.log(`Backed up the ${type} database at ${where} to ${out} (${manifest.migrations.length} migrations, plugins: ${manifest.plugins.map((plugin) => plugin.id).join(', ') || 'none'}).`);
  if (manifest.encryption) console.log(`Secret settings in it are encrypted with key ${manifest.encryption.keyId}: keep that key (ENCRYPTION_SECRET or encryption.key) safe, apart from the backup.`);
});
