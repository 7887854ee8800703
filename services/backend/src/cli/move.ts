/**
 * `npm run db:move -- --to postgresql|pglite`: moves this instance to the
 * other kind of database: PGlite → the PostgreSQL server in the environment (POSTGRES_* or
 * DATABASE_URL), or back into a new PGlite folder. Copies and verifies every row in one transaction
 * on the target, then switches db.selection.json (last). The old PGlite folder is kept, renamed
 * with the time of the move; an old PostgreSQL database is left as it is. When this instance's
 * server is running, it does the move itself (src/control/move-command.ts): this command asks it
 * through PERSISTENT_DATA_DIR/control.sock and prints its progress.
 *
 * Tests only: GROUNDWORK_MOVE_PAUSE_AT=<building|copying|verifying|switching> prints
 * "Paused at <stage>" when that stage begins and waits there, so a test can kill the process in it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { describeTarget, loadConfig, type DatabaseType } from '../config.ts';
import { pauseForTests } from '../test-pause.ts';
import { openDriver, pgliteDataDir, type DatabaseDriver } from '../db/drivers/index.ts';
import { moveDatabase, type MoveStage } from '../db/move/index.ts';
import { MoveRefusedError } from '../db/move/errors.ts';
import { refuseWhileServersRun } from '../db/move/running-servers.ts';
import { completePgliteTarget, discardPgliteTarget, INCOMPLETE_MOVE_MARKER, keepOldPgliteFolder, preparePgliteTarget } from '../db/move/pglite-target.ts';
import { readSelection, SELECTION_FORMAT_VERSION, writeSelection } from '../db/selection.ts';
import { assertDataFolder } from '../storage.ts';
import { callRunningServer } from '../control/client.ts';
import { cliLog, runCli } from './instance-database.ts';

const TYPES: readonly DatabaseType[] = ['pglite', 'postgresql'];
const STAGE_WORDS: Record<MoveStage | 'switching', string> = {
  building: 'Building the schema (migrations and plugin tables)',
  copying: 'Copying every row',
  verifying: 'Verifying every table (row count and checksum)',
  switching: 'Switching db.selection.json',
};

runCli(async () => {
  const to = targetType(process.argv.slice(2));
  const config = loadConfig();
  assertDataFolder(config.persistentDataDir);
  // A running server moves itself (maintenance mode, no restart): this command shows its progress.
  const server = await callRunningServer(config.persistentDataDir, 'move', { to });
  if (server) {
    for await (const event of server) if (event.type === 'log') console.log(event.message);
    return;
  }
  const selection = readSelection(config.persistentDataDir);
  if (selection.status === 'invalid') throw new Error(selection.message);
  if (selection.status === 'missing') throw new MoveRefusedError(`${config.persistentDataDir} has no db.selection.json: this instance is not set up, there is nothing to move.`);
  const from = selection.selection.type;
  const pgliteDir = pgliteDataDir(config);

  if (from === to) {
    // A move to PostgreSQL that switched but was stopped before it renamed the old folder.
    if (to === 'postgresql' && existsSync(pgliteDir) && readdirSync(pgliteDir).length > 0 && !existsSync(`${pgliteDir}/${INCOMPLETE_MOVE_MARKER}`)) {
      console.log(`The old embedded database is kept in ${keepOldPgliteFolder(pgliteDir)}.`);
    }
    console.log(`This instance already uses ${to}: nothing to move.`);
    return;
  }
  if (to === 'postgresql' && !config.postgres) {
    throw new MoveRefusedError(
      'No PostgreSQL server in the environment: set DATABASE_URL, or POSTGRES_HOST, POSTGRES_PORT, POSTGRES_DATABASE, POSTGRES_USER and POSTGRES_PASSWORD, to the empty database to move to (the server needs them too once moved).',
    );
  }
  if (to === 'pglite') preparePgliteTarget(pgliteDir);

  let report;
  try {
    report = await withDriver(from, async (source) => {
      // Held for the whole move: a server starting meanwhile waits at its migrations.
      const sourceLock = await source.lock();
      try {
        if (from === 'postgresql') await refuseWhileServersRun(sourceLock.db, `this instance's database (${source.target})`);
        return await withDriver(to, async (target) => {
          if (to === 'postgresql') await refuseWhileServersRun(target.db, `the database to move to (${target.target})`);
          console.log(`Moving this instance from ${from} (${source.target}) to ${to} (${target.target}).`);
          return moveDatabase({ source, target, onStage: announce, onProgress: progressPrinter() });
        });
      } finally {
        await sourceLock.release();
      }
    });
  } catch (error) {
    if (to === 'pglite') discardPgliteTarget(pgliteDir);
    throw error;
  }
  if (report.alreadyCopied) console.log(`${report.target} already holds an exact copy (an earlier move was stopped before it switched).`);
  else console.log(`Copied and verified ${report.rows} row(s) in ${report.tables.length} tables and ${report.sequences} sequences in ${(report.durationMs / 1000).toFixed(1)} s.`);

  await announce('switching');
  writeSelection(config.persistentDataDir, { type: to, selectedAt: new Date().toISOString(), version: SELECTION_FORMAT_VERSION });
  if (to === 'pglite') {
    completePgliteTarget(pgliteDir);
    console.log(`Done: this instance now uses the embedded database in ${pgliteDir}.`);
    const old = config.postgres ? ` at ${describeTarget(config.postgres.target)}` : '';
    console.log(`The PostgreSQL database${old} is left as it is; this instance no longer uses it (drop it when you no longer need it).`);
  } else {
    const kept = keepOldPgliteFolder(pgliteDir);
    console.log(`Done: this instance now uses PostgreSQL at ${report.target}. Start the server with the same POSTGRES_*/DATABASE_URL (and ENCRYPTION_SECRET, if set).`);
    console.log(`The old embedded database is kept in ${kept}: the way back is npm run db:move -- --to pglite (see docs/operations.md).`);
  }
});

function targetType(args: string[]): DatabaseType {
  const index = args.indexOf('--to');
  const value = index >= 0 ? args[index + 1] : args.find((arg) => arg.startsWith('--to='))?.slice('--to='.length);
  if (!value || !TYPES.includes(value as DatabaseType)) throw new MoveRefusedError('Say where to move: npm run db:move -- --to postgresql, or --to pglite.');
  return value as DatabaseType;
}

async function withDriver<T>(type: DatabaseType, work: (driver: DatabaseDriver) => Promise<T>): Promise<T> {
  const driver = await openDriver(type, loadConfig(), cliLog);
  try {
    return await work(driver);
  } finally {
    await driver.close();
  }
}

async function announce(stage: MoveStage | 'switching'): Promise<void> {
  console.log(`${STAGE_WORDS[stage]}…`);
  await pauseForTests(stage, 'GROUNDWORK_MOVE_PAUSE_AT');
}

/** A line per table, and one every few seconds for a long one. */
function progressPrinter() {
  let lastPrinted = 0;
  return (table: string, done: number, total: number) => {
    const now = Date.now();
    if (done === total || now - lastPrinted > 3_000) {
      lastPrinted = now;
      console.log(`  ${table}: ${done} of ${total} row(s)`);
    }
  };
}
