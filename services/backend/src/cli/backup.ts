/**
 * `npm run db:backup -- --out FILE`: writes a plain-SQL backup of this instance's database (see
 * src/db/backup). For an instance whose server is stopped: this command opens the database itself.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { PGlite } from '@electric-sql/pglite';
import { writeBackup } from '../db/backup/index.ts';
import { runCli, withInstanceDatabase } from './instance-database.ts';

runCli(async () => {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  if (!values.out) throw new Error('Usage: npm run db:backup -- --out FILE');
  const out = resolve(values.out);
  await withInstanceDatabase(async ({ config, type, driver }) => {
    const manifest = await writeBackup(
      type === 'pglite'
        ? // Drizzle keeps the client it was made with: here the PGlite this process opened.
          { type, pg: (driver.db as unknown as { $client: PGlite }).$client }
        : { type, settings: config.postgres!, pgDumpPath: process.env.PG_DUMP_PATH || undefined },
      out,
    );
    console.log(`Backed up the ${type} database at ${driver.target} to ${out} (${manifest.migrations.length} migrations, plugins: ${manifest.plugins.map((plugin) => plugin.id).join(', ') || 'none'}).`);
    if (manifest.encryption) console.log(`Secret settings in it are encrypted with key ${manifest.encryption.keyId}: keep that key (ENCRYPTION_SECRET or encryption.key) safe, apart from the backup.`);
  });
});
