import type { FastifyBaseLogger } from 'fastify';
import type { Config, DatabaseType } from '../config.ts';
import type { ActiveDatabase } from '../db/active-database.ts';
import { openDriver, pgliteDataDir, type DatabaseDriver } from '../db/drivers/index.ts';
import type { SettingsStore } from '../global-settings/store.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import { AppError } from '../errors.ts';
import type { PhaseName, SetupResult } from '../schemas/database.ts';
import { assertDataFolder } from '../storage.ts';
import { compactHeapSoon } from '../heap-compaction.ts';
import { discardPgliteSetup, preparePgliteSetup } from '../db/drivers/pglite-preparation.ts';
import { pauseForTests } from '../test-pause.ts';
import { SETUP_PHASES, SetupRun } from './phases.ts';
import type { SetupStatus } from './setup-status.ts';
import type { SetupToken } from './token.ts';

/** Told how long setup's steps take (metrics); the runner works the same without one. */
export interface SetupObserver {
  /** A phase finished without error after `seconds` (the wait for the schema lock not included). */
  phaseCompleted(phase: PhaseName, mode: SetupRun['mode'], seconds: number): void;
  /** How long taking the schema lock took, whether it was granted or timed out. */
  lockWaited(seconds: number): void;
}

/** What a run needs besides its type and mode: the app's parts that phases work on. */
interface SetupRunnerParts {
  config: Config;
  log: FastifyBaseLogger;
  status: SetupStatus;
  active: ActiveDatabase;
  token: SetupToken;
  settings: SettingsStore;
  plugins: PluginRegistry;
  /** Told how long phases and lock waits take; null: nobody asks (metrics off). */
  observer: SetupObserver | null;
}

/**
 * Runs the phases of setup (phases.ts), one run at a time per app: for POST /api/db/setup and for
 * every boot. On success it hands the connected driver to the active database; on failure it
 * rolls back so that nothing is left behind (lock released, connections closed, a new PGlite
 * folder removed) and a retry can succeed.
 */
export class SetupRunner {
  private running: Promise<void> | null = null;
  /** A connection opened before the server listened (connectAhead), for the boot's connect phase. */
  private ahead: { type: DatabaseType; driver: Promise<DatabaseDriver> } | null = null;

  constructor(private readonly parts: SetupRunnerParts) {}

  /** First-time setup requested over HTTP. Throws AppErrors that map to 401/409/4xx/5xx. */
  async setUpFromRequest(type: DatabaseType, presentedToken: string | undefined): Promise<SetupResult> {
    this.assertCanSetUp();
    this.parts.token.verify(presentedToken);
    try {
      assertDataFolder(this.parts.config.persistentDataDir);
    } catch (error) {
      // Made in a folder that is not safe any more: not to be trusted either.
      await discardPgliteSetup(pgliteDataDir(this.parts.config));
      throw error;
    }
    const run = await this.run(type, 'first-time', true);
    const database = type === 'pglite' ? 'embedded PGlite' : 'PostgreSQL';
    if (run.adopted) {
      return {
        message: `The ${database} database was already set up: this instance joined an existing installation and is ready. No admin token was issued; use the existing one (\`npm run admin:token\` on the server replaces it).`,
        restart_required: false,
        database_type: type,
        adopted: true,
      };
    }
    const result: SetupResult = { message: `The ${database} database is set up and ready.`, restart_required: false, database_type: type };
    if (run.adminToken) result.admin_token = run.adminToken;
    return result;
  }

  /** The instance waits for its first setup: get ahead on the slow part of it (the settings key). */
  prepareFirstSetup(): void {
    this.parts.settings.prepareKeyForNewInstallation();
    // Without PostgreSQL settings the embedded database is the only choice: it is made and started meanwhile.
    if (!this.parts.config.postgres) preparePgliteSetup(pgliteDataDir(this.parts.config), this.parts.log);
  }

  /**
   * Opens the database a boot will connect to, now (before the server listens) rather than in
   * the boot's connect phase, which then takes it. Boot still runs every phase on it; a failure
   * to connect surfaces in that phase, as if it had happened there.
   */
  connectAhead(type: DatabaseType): void {
    if (this.ahead) return;
    const { config, log } = this.parts;
    const driver = openDriver(type, config, log, { forSetup: true });
    driver.catch(() => {});
    this.ahead = { type, driver };
  }

  /** A connection opened ahead that no boot took (shutdown came first): closed. */
  async discardAhead(): Promise<void> {
    const ahead = this.ahead;
    this.ahead = null;
    await ahead?.driver.then((driver) => driver.close(), () => {});
  }

  /** For the wizard's helpers (connection test, environment): the same checks as setup itself. */
  authorizeSetupStep(presentedToken: string | undefined): void {
    // While boot cannot reach the environment's PostgreSQL, these help find out why; setup waits.
    if (!this.parts.status.isProbing) this.assertCanSetUp();
    this.parts.token.verify(presentedToken);
  }

  /** Whether `candidate` is the setup token of this instance while it is not set up (it may then read error details). */
  acceptsSetupToken(candidate: string | undefined): boolean {
    if (this.parts.status.isConfigured || !candidate) return false;
    try {
      this.parts.token.verify(candidate);
      return true;
    } catch {
      return false;
    }
  }

  /** Runs the phases. The status changes before the first await, so a concurrent caller sees `setting_up`. */
  run(type: DatabaseType, mode: SetupRun['mode'], issueAdminToken: boolean): Promise<SetupRun> {
    const { config, log, settings, plugins } = this.parts;
    this.parts.status.begin(type);
    // A first setup derives the key while it connects and migrates (nothing to do if already derived).
    if (mode === 'first-time') settings.prepareKeyForNewInstallation();
    // What was prepared for PGlite (or left by an earlier process) is not needed: removed in the background.
    if (type !== 'pglite') void discardPgliteSetup(pgliteDataDir(config)).catch((error: unknown) => log.warn({ err: error }, 'Removing the embedded database prepared ahead failed'));
    const run = new SetupRun(type, mode, issueAdminToken, config, log, settings, plugins);
    const ahead = this.ahead;
    this.ahead = null;
    if (ahead?.type === type && mode === 'boot') run.opening = ahead.driver;
    else void ahead?.driver.then((driver) => driver.close(), () => {});
    const running = this.runPhases(run).then(() => run);
    // Tracked for settle(); the caller handles the error, so this copy must not reject.
    this.running = running.then(
      () => {},
      () => {},
    ).finally(() => {
      this.running = null;
    });
    return running;
  }

  /** Resolves when no run is in flight (for shutdown: a setup in progress finishes first). */
  async settle(): Promise<void> {
    await this.running;
  }

  private assertCanSetUp(): void {
    const { status } = this.parts;
    if (status.selectionProblem) throw new AppError(409, 'selection_invalid', status.selectionProblem);
    if (status.isConfigured || status.isReady()) {
      throw new AppError(409, 'already_configured', 'This instance is already set up. Its database settings cannot be changed through setup.');
    }
    if (status.isProbing) {
      throw new AppError(409, 'setup_in_progress', 'The server is still checking whether the PostgreSQL database in its environment is already set up (it does not answer yet). Watch GET /api/db/status.');
    }
    if (status.isSettingUp) throw new AppError(409, 'setup_in_progress', 'A setup is already running. Watch GET /api/db/status for its progress.');
  }

  private async runPhases(run: SetupRun): Promise<void> {
    const { status, active, token, settings, plugins, log, observer } = this.parts;
    const phases = SETUP_PHASES.filter((phase) => run.mode === 'first-time' || !('firstTimeOnly' in phase));
    const started = performance.now();
    let current: PhaseName | undefined;
    try {
      for (const phase of phases) {
        current = phase.name;
        status.enterPhase(phase.name);
        const exclusive = 'exclusive' in phase && phase.exclusive;
        if (exclusive && !run.session) run.session = await beginSchemaWork(run, observer);
        if (!exclusive && run.session) await run.commitSchemaWork();
        const phaseStarted = performance.now();
        await phase.run(run);
        await pauseForTests(`setup:${phase.name}`);
        const ms = performance.now() - phaseStarted;
        observer?.phaseCompleted(phase.name, run.mode, ms / 1000);
        log.debug({ phase: phase.name, ms: Math.round(ms) }, 'setup phase done');
      }
      await run.commitSchemaWork();
    } catch (error) {
      // A connection lost in any phase is the database being unavailable (503), not a bug (500).
      const failure = (!(error instanceof AppError) && run.hasDriver && run.driver.connectionLost(error)) || error;
      await this.rollBack(run, failure);
      // The answer names the phase that failed, so the wizard need not guess it from the code.
      if (failure instanceof AppError) failure.phase = current;
      throw failure;
    }
    active.activate(run.driver);
    status.succeed();
    if (run.mode === 'first-time') token.consume();
    settings.follow();
    // Plugins' own start-up: a plugin that throws is marked failed; it cannot stop the instance.
    await plugins.start();
    log.info({ type: run.type, ms: Math.round(performance.now() - started) }, `Database ready (${run.type}, ${run.driver.target})`);
    compactHeapSoon();
  }

  /** Leaves nothing behind: lock released, connections closed, a PGlite folder made by this run removed. */
  private async rollBack(run: SetupRun, error: unknown): Promise<void> {
    const { status, settings, log } = this.parts;
    await run.abortSchemaWork();
    settings.detach();
    if (run.hasDriver) {
      await run.driver.close({ discardNew: run.mode === 'first-time' }).catch((closeError: unknown) => {
        log.warn({ err: closeError }, 'Closing the database after a failed setup failed');
      });
    }
    const message = status.fail(error, run.mode);
    const isClientProblem = error instanceof AppError && error.statusCode < 500;
    // AppErrors carry a safe message; their cause (already scrubbed of secrets) has the stack.
    const detail = error instanceof AppError ? error.cause : error;
    log[isClientProblem ? 'warn' : 'error']({ err: detail }, `Setup failed: ${message}`);
  }
}

/** The schema transaction, timed: its lock wait is long when another replica is doing schema work (or hung holding the lock). */
async function beginSchemaWork(run: SetupRun, observer: SetupObserver | null) {
  const started = performance.now();
  try {
    return await run.driver.schemaTransaction();
  } finally {
    observer?.lockWaited((performance.now() - started) / 1000);
  }
}
