import { existsSync } from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import type { Config, DatabaseType } from '../config.ts';
import type { ActiveDatabase } from '../db/active-database.ts';
import { openDriver, pgliteDataDir, type DatabaseDriver } from '../db/drivers/index.ts';
import { moveDatabase, type MoveStage } from '../db/move/index.ts';
import { MoveRefusedError } from '../db/move/errors.ts';
import { completePgliteTarget, discardPgliteTarget, keepOldPgliteFolder, preparePgliteTarget } from '../db/move/pglite-target.ts';
import { refuseWhileServersRun } from '../db/move/running-servers.ts';
import { SELECTION_FORMAT_VERSION, writeSelection } from '../db/selection.ts';
import { AppError, rootMessage } from '../errors.ts';
import type { SettingsStore } from '../global-settings/store.ts';
import type { SetupStatus } from '../setup/setup-status.ts';
import type { CommandHandler } from './protocol.ts';
import type { WritesInFlight } from './writes-in-flight.ts';

interface MoveDependencies {
  config: Config;
  log: FastifyBaseLogger;
  status: SetupStatus;
  active: ActiveDatabase;
  settings: SettingsStore;
  writes: WritesInFlight;
}

/** Why a move in the server did not happen or did not finish; the instance stays on its database. */
class MoveFailedError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(409, 'move_failed', message, options);
  }
}

/**
 * `move {"to": "postgresql" | "pglite"}`: moves the running instance to the other kind of database
 * without a restart. The server goes into `maintenance` (writes get 503, reads and status go on),
 * waits for the writes in flight, copies and verifies with the move engine, switches
 * db.selection.json (last), then swaps the new database in and follows settings there. Any
 * failure: back to ready on the old database, the target left empty, the error in status.
 */
export class MoveCommand {
  private running: Promise<void> | null = null;
  private aborted = false;

  constructor(private readonly deps: MoveDependencies) {}

  readonly handler: CommandHandler = async (body, send) => {
    const to = body.to;
    if (to !== 'pglite' && to !== 'postgresql') throw new MoveFailedError('Say where to move: {"to": "postgresql"} or {"to": "pglite"}.');
    if (this.running) throw new MoveFailedError('A move is already running in this server: GET /api/db/status shows its progress.');
    const say = (message: string) => {
      this.deps.log.info(message);
      void send({ type: 'log', message });
    };
    const run = this.move(to, say);
    this.running = run.then(
      () => {},
      () => {},
    );
    try {
      await run;
    } finally {
      this.running = null;
    }
  };

  /** Shutdown: a running move stops at its next step (the target rolls back) and is waited for. */
  async stop(): Promise<void> {
    this.aborted = true;
    await this.running;
  }

  private async move(to: DatabaseType, say: (message: string) => void): Promise<void> {
    const { config, log, status, active, settings, writes } = this.deps;
    const source = active.current;
    if (!status.isReady() || !source) throw new MoveFailedError(`The server is ${status.describe()}: a move starts only from ready (GET /api/db/status).`);
    const from = source.type;
    if (from === to) {
      say(`This instance already uses ${to}: nothing to move.`);
      return;
    }
    if (to === 'postgresql' && !config.postgres) {
      throw new MoveFailedError(
        "No PostgreSQL server in the running server's environment: set DATABASE_URL, or POSTGRES_HOST, POSTGRES_PORT, POSTGRES_DATABASE, POSTGRES_USER and POSTGRES_PASSWORD, for the server (restart it with them), then move.",
      );
    }

    const pgliteDir = pgliteDataDir(config);
    status.beginMaintenance(to);
    say(`Maintenance: writes are refused until the move ends; waiting for the writes in flight.`);
    let target: DatabaseDriver | null = null;
    try {
      await writes.drained();
      if (to === 'pglite') preparePgliteTarget(pgliteDir);
      const sourceLock = await source.lock();
      let report;
      try {
        if (from === 'postgresql') await refuseWhileServersRun(sourceLock.db, `this instance's database (${source.target})`, 1);
        target = await openDriver(to, config, log);
        if (to === 'postgresql') await refuseWhileServersRun(target.db, `the database to move to (${target.target})`);
        say(`Moving this instance from ${from} (${source.target}) to ${to} (${target.target}).`);
        report = await moveDatabase({
          source,
          target,
          // A PGlite transaction would hold every request's query for the whole copy; writes are blocked, so short reads are safe.
          sourceReads: from === 'pglite' ? 'per-statement' : 'snapshot',
          onStage: (stage) => this.stage(stage, say),
          onProgress: (table, done, total) => {
            this.checkAborted();
            status.updateMaintenance({ table, rows_done: done, rows_total: total });
          },
        });
      } finally {
        await sourceLock.release();
      }
      say(`Copied and verified ${report.rows} row(s) in ${report.tables.length} tables${report.alreadyCopied ? ' (the target already held an exact copy)' : ''}.`);

      await this.stage('switching', say);
      writeSelection(config.persistentDataDir, { type: to, selectedAt: new Date().toISOString(), version: SELECTION_FORMAT_VERSION });
      if (to === 'pglite') completePgliteTarget(pgliteDir);
      const next = target;
      target = null;
      await settings.followDriver(next);
      // Readers get the new database at once; the old one closes after its queries in flight.
      await active.swap(next);
    } catch (error) {
      await target?.close().catch(() => {});
      if (to === 'pglite') discardPgliteTarget(pgliteDir);
      const failure = new MoveFailedError(`The move to ${to} failed, this instance stays on ${from}: ${rootMessage(error)}`, { cause: error });
      const detail = status.endMaintenance({ error: failure });
      log.error(`Move to ${to} failed, back on ${from}: ${detail}`);
      throw failure;
    }
    status.endMaintenance({ type: to });
    if (from === 'pglite' && existsSync(pgliteDir)) {
      const kept = keepOldPgliteFolder(pgliteDir);
      say(`Done: this instance now uses PostgreSQL, no restart needed. Keep POSTGRES_*/DATABASE_URL in its environment for the next start.`);
      say(`The old embedded database is kept in ${kept}: the way back is npm run db:move -- --to pglite (see docs/operations.md).`);
    } else {
      say(`Done: this instance now uses the embedded database in ${pgliteDir}, no restart needed. The PostgreSQL database is left as it is.`);
    }
  }

  private checkAborted(): void {
    if (this.aborted) throw new MoveRefusedError('The server is shutting down: the move was stopped and nothing was kept.');
  }

  private async stage(stage: MoveStage | 'switching', say: (message: string) => void): Promise<void> {
    this.checkAborted();
    this.deps.status.updateMaintenance({ stage });
    say(`${stage[0]!.toUpperCase()}${stage.slice(1)}…`);
    // Tests only: hold here, so a test can watch maintenance or kill the server in this stage.
    if (process.env.GROUNDWORK_MOVE_PAUSE_AT === stage) {
      say(`Paused at ${stage} (GROUNDWORK_MOVE_PAUSE_AT is set: for tests only)`);
      const resumeFile = process.env.GROUNDWORK_MOVE_RESUME_FILE;
      while (!(resumeFile && existsSync(resumeFile))) {
        this.checkAborted();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }
}
