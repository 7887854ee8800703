import pino from 'pino';
import { loadConfig, type Config, type DatabaseType } from '../config.ts';
import { openDriver, type DatabaseDriver, type ExclusiveSession } from '../db/drivers/index.ts';
import { readSelection } from '../db/selection.ts';
import { assertDataFolder } from '../storage.ts';

export const cliLog = pino({ level: process.env.LOG_LEVEL ?? 'warn' });

interface InstanceDatabase {
  config: Config;
  type: DatabaseType;
  driver: DatabaseDriver;
  session: ExclusiveSession;
}

/**
 * For command-line tools: opens this instance's database (from db.selection.json, or DB_TYPE when
 * not set up yet) under the schema lock, runs `work`, and closes everything.
 */
export async function withInstanceDatabase<T>(work: (instance: InstanceDatabase) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const type = instanceDatabaseType(config);
  // The socket is the running server's to serve; a short-lived command has no use for it.
  const driver = await openDriver(type, { ...config, pgliteSocketPort: null }, cliLog);
  try {
    const session = await driver.lock();
    try {
      return await work({ config, type, driver, session });
    } finally {
      await session.release();
    }
  } finally {
    await driver.close();
  }
}

/** Which database this instance uses: from db.selection.json, or DB_TYPE when not set up yet. */
export function instanceDatabaseType(config: Config): DatabaseType {
  assertDataFolder(config.persistentDataDir);
  const selection = readSelection(config.persistentDataDir);
  if (selection.status === 'invalid') throw new Error(selection.message);
  const type = selection.status === 'ok' ? selection.selection.type : config.dbType;
  if (!type) {
    throw new Error(`${config.persistentDataDir} has no db.selection.json and DB_TYPE is not set: set up the instance first, or set DB_TYPE.`);
  }
  return type;
}

/** Runs a command-line tool: plain message and exit 1 on failure, never a stack for expected errors. */
export function runCli(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
