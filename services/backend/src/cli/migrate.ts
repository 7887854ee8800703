/**
 * `npm run db:migrate`: applies pending migrations to this instance's database from the command
 * line, under the same lock the server uses. The database is the one in db.selection.json, or
 * DB_TYPE's when the instance is not set up yet.
 */
import { loadConfig } from '../config.ts';
import { openDriver } from '../db/drivers/index.ts';
import { readSelection } from '../db/selection.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const selection = readSelection(config.persistentDataDir);
  if (selection.status === 'invalid') throw new Error(selection.message);
  const type = selection.status === 'ok' ? selection.selection.type : config.dbType;
  if (!type) {
    throw new Error(`Nothing to migrate: ${config.persistentDataDir} has no db.selection.json and DB_TYPE is not set. Set up the instance first, or set DB_TYPE.`);
  }
  const driver = await openDriver(type, config, { warn: (details, message) => console.warn(message, details) });
  try {
    const session = await driver.lock();
    try {
      await session.migrate();
    } finally {
      await session.release();
    }
    console.log(`Migrations applied to the ${type} database at ${driver.target}.`);
  } finally {
    await driver.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
