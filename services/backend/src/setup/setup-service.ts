import type { FastifyBaseLogger } from 'fastify';
import type { Config, DatabaseType } from '../config.ts';
import { DatabaseNotReadyError, setActiveDatabase, type AppDatabase } from '../db/index.ts';
import type { SettingsStore } from '../global-settings/store.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import type { DatabaseDriver } from '../db/drivers/index.ts';
import { readSelection } from '../db/selection.ts';
import { AppError, DatabaseUnavailableError, publicMessage, rootMessage } from '../errors.ts';
import type { DbStatus, PhaseName, SetupResult, SetupState } from '../schemas/database.ts';
import { SETUP_PHASES, SetupRun } from './phases.ts';
import { isSetUpElsewhere } from './adoption.ts';
import { SetupToken } from './token.ts';
import { assertDataFolder } from '../storage.ts';

/** `reason` is for anyone; `detail` (hosts, folders, key ids) only for callers that may see it. */
export type Readiness = { ready: true } | { ready: false; reason: string; detail?: string };

const READINESS_CACHE_MS = 2_000;
const PING_TIMEOUT_MS = 1_500;
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/**
 * The setup state machine: unconfigured → setting_up → ready, or back to unconfigured (first-time
 * setup) / error (boot) when a phase fails. One run at a time per process; everything it reports
 * is kept in memory so status never touches the database.
 */
export class SetupService {
  private state: SetupState = 'unconfigured';
  private phase: PhaseName | null = null;
  private type: DatabaseType | null = null;
  private configured = false;
  /** The last error: `message` for anyone, `detail` (the full words) for the log and token holders. */
  private lastError: { message: string; detail: string } | null = null;
  private selectionProblem: string | null = null;
  /** At boot, the environment's PostgreSQL does not answer yet: whether it is set up is unknown. */
  private probing = false;
  private driver: DatabaseDriver | null = null;
  private running: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelayMs = FIRST_RETRY_MS;
  private closing = false;
  private lastPing: { at: number; result: Readiness } | null = null;
  private pendingPing: Promise<Readiness> | null = null;
  private readonly token: SetupToken;

  constructor(
    private readonly config: Config,
    private readonly log: FastifyBaseLogger,
    private readonly settings: SettingsStore,
    private readonly plugins: PluginRegistry,
  ) {
    this.token = new SetupToken(config.persistentDataDir, config.setupToken);
  }

  /** `withDetail`: add the full error, for a caller holding the setup or admin token. */
  snapshot(withDetail = false): DbStatus {
    const status: DbStatus = {
      configured: this.configured,
      initialized: this.state === 'ready',
      dialect: this.type ? 'postgresql' : null,
      type: this.type,
      state: this.state,
    };
    if (this.state === 'setting_up' && this.phase) status.phase = this.phase;
    if (this.lastError) {
      status.error = this.lastError.message;
      if (withDetail) status.detail = this.lastError.detail;
    }
    return status;
  }

  isReady(): boolean {
    return this.state === 'ready';
  }

  /**
   * Starts from what is on disk: a selection file → connect and migrate; none → wait for the
   * wizard, or set up headlessly when DB_TYPE is set. Resolves after the first attempt.
   * `baseUrl` is where this server listens, for the setup link in the log.
   */
  async boot(baseUrl: string): Promise<void> {
    try {
      assertDataFolder(this.config.persistentDataDir);
    } catch (error) {
      this.refuseToBoot(error);
      return;
    }
    const selection = readSelection(this.config.persistentDataDir);
    if (selection.status === 'invalid') {
      this.selectionProblem = selection.message;
      this.state = 'error';
      this.recordError(new AppError(409, 'selection_invalid', selection.message));
      this.log.error(selection.message);
      return;
    }
    if (selection.status === 'ok') {
      this.configured = true;
      await this.attempt(selection.selection.type, 'boot');
      return;
    }
    if (this.config.dbType) {
      this.log.info(`DB_TYPE=${this.config.dbType}: setting up without the wizard`);
      await this.attempt(this.config.dbType, 'first-time');
      return;
    }
    await this.adoptOrOfferSetup(baseUrl);
  }

  /** First-time setup requested over HTTP. Throws AppErrors that map to 401/409/4xx/5xx. */
  async setUp(type: DatabaseType, presentedToken: string | undefined): Promise<SetupResult> {
    this.assertCanSetUp();
    this.token.verify(presentedToken);
    assertDataFolder(this.config.persistentDataDir);
    this.cancelRetry();
    const run = await this.execute(type, 'first-time', true);
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

  /**
   * Checks, for the wizard, that the chosen database answers, and changes nothing: no selection
   * file, no state change, no migrations. PostgreSQL: a one-connection pool runs `select version()`
   * and is closed again. PGlite: nothing is created (it would make the data folder), the answer says so.
   */
  /** For the wizard's helpers (connection test, environment): the same checks as setup itself. */
  authorizeSetupStep(presentedToken: string | undefined): void {
    // While boot cannot reach the environment's PostgreSQL, these help find out why; setup waits.
    if (!this.probing) this.assertCanSetUp();
    this.token.verify(presentedToken);
  }

  /** Whether `candidate` is the setup token of this instance while it is not set up (it may then read error details). */
  acceptsSetupToken(candidate: string | undefined): boolean {
    if (this.configured || !candidate) return false;
    try {
      this.token.verify(candidate);
      return true;
    } catch {
      return false;
    }
  }

  /** This app's database; DatabaseNotReadyError (503) until setup or boot has finished. */
  database(): AppDatabase {
    if (this.state !== 'ready' || !this.driver) throw new DatabaseNotReadyError(this.state.replace('_', ' '));
    return this.driver.db;
  }

  /** For /api/health/ready: ready and the database answers. The answer is cached for 2 s. */
  async readiness(): Promise<Readiness> {
    const driver = this.driver;
    if (this.state !== 'ready' || !driver) {
      const reason = `The database is ${this.state.replace('_', ' ')}.`;
      return this.lastError ? { ready: false, reason, detail: this.lastError.detail } : { ready: false, reason };
    }
    if (this.lastPing && Date.now() - this.lastPing.at < READINESS_CACHE_MS) return this.lastPing.result;
    this.pendingPing ??= driver
      .ping(PING_TIMEOUT_MS)
      .then(
        (): Readiness => ({ ready: true }),
        (error: unknown): Readiness => ({ ready: false, reason: 'The database does not answer.', detail: rootMessage(error) }),
      )
      .then((result) => {
        // Logged when readiness is lost, not at every probe of a load balancer.
        if (!result.ready && this.lastPing?.result.ready !== false) this.log.warn(`Not ready: ${result.detail}`);
        this.lastPing = { at: Date.now(), result };
        this.pendingPing = null;
        return result;
      });
    return this.pendingPing;
  }

  /** Stops retries, lets a running setup finish, closes the database. */
  async close(): Promise<void> {
    this.closing = true;
    this.cancelRetry();
    await this.running;
    const driver = this.driver;
    this.driver = null;
    this.settings.detach();
    this.plugins.stop();
    setActiveDatabase(null);
    await driver?.close();
  }

  private assertCanSetUp(): void {
    if (this.selectionProblem) throw new AppError(409, 'selection_invalid', this.selectionProblem);
    if (this.configured || this.state === 'ready') {
      throw new AppError(409, 'already_configured', 'This instance is already set up. Its database settings cannot be changed through setup.');
    }
    if (this.probing) {
      throw new AppError(409, 'setup_in_progress', 'The server is still checking whether the PostgreSQL database in its environment is already set up (it does not answer yet). Watch GET /api/db/status.');
    }
    if (this.state === 'setting_up') throw new AppError(409, 'setup_in_progress', 'A setup is already running. Watch GET /api/db/status for its progress.');
  }

  private refuseToBoot(error: unknown): void {
    this.state = 'error';
    this.log.error(this.recordError(error));
  }

  /**
   * Joins the environment's PostgreSQL database when another replica set it up, else offers the
   * wizard. While that server cannot be reached nobody can tell which, so neither happens: status
   * shows the check (setting_up, phase connect) and it is retried with backoff.
   */
  private async adoptOrOfferSetup(baseUrl: string): Promise<void> {
    let setUpElsewhere: boolean;
    try {
      setUpElsewhere = await isSetUpElsewhere(this.config, this.log);
    } catch (error) {
      if (this.closing) return;
      this.probing = true;
      this.state = 'setting_up';
      this.phase = 'connect';
      this.recordError(error);
      this.retryLater(() => this.adoptOrOfferSetup(baseUrl));
      this.log.warn(`Cannot tell yet whether the PostgreSQL database in the environment is already set up, so setup waits: ${this.lastError?.detail}`);
      return;
    }
    this.probing = false;
    this.state = 'unconfigured';
    this.phase = null;
    this.lastError = null;
    this.retryDelayMs = FIRST_RETRY_MS;
    if (this.closing) return;
    if (setUpElsewhere) {
      // Another replica set this database up: join it rather than offer a second setup.
      this.log.info('The PostgreSQL database in the environment is already set up: adopting it');
      await this.attempt('postgresql', 'first-time');
      return;
    }
    try {
      this.announceSetup(baseUrl);
    } catch (error) {
      // An untrusted setup-token file: no token, so no setup until the operator fixes it.
      this.refuseToBoot(error);
    }
  }

  private announceSetup(baseUrl: string): void {
    const { token, source } = this.token.ensure();
    if (source === 'environment') {
      this.log.info(`Not set up yet. Open ${baseUrl}/setup and enter the SETUP_TOKEN from the environment.`);
    } else {
      this.log.info(`Not set up yet. Open ${baseUrl}/setup?token=${token} (the token is also in ${this.token.path}).`);
    }
  }

  /** One attempt from boot; connection failures are retried with backoff so start order does not matter. */
  private async attempt(type: DatabaseType, mode: SetupRun['mode']): Promise<void> {
    try {
      const run = await this.execute(type, mode, false);
      this.retryDelayMs = FIRST_RETRY_MS;
      if (run.adopted) this.log.info('Joined an existing installation: the database was already set up.');
      else if (mode === 'first-time') this.log.info('Set up without the wizard. Run `npm run admin:token` on the server to get an admin API token.');
    } catch (error) {
      if (!(error instanceof DatabaseUnavailableError) || this.closing) return;
      this.retryLater(() => this.attempt(type, mode));
    }
  }

  /** Runs `again` after a delay that doubles each time (up to 30 s), and says so in status. */
  private retryLater(again: () => Promise<void>): void {
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(delay * 2, MAX_RETRY_MS);
    const note = ` Retrying in ${delay / 1000} s.`;
    if (this.lastError) this.lastError = { message: this.lastError.message + note, detail: this.lastError.detail + note };
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void again();
    }, delay);
  }

  /** Keeps the error for status; returns its full words, for the log. */
  private recordError(error: unknown): string {
    const detail = rootMessage(error);
    this.lastError = { message: publicMessage(error), detail };
    return detail;
  }

  private cancelRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** Runs the phases. The state changes before the first await, so a concurrent caller sees `setting_up`. */
  private execute(type: DatabaseType, mode: SetupRun['mode'], issueAdminToken: boolean): Promise<SetupRun> {
    this.state = 'setting_up';
    this.type = type;
    this.phase = null;
    const run = new SetupRun(type, mode, issueAdminToken, this.config, this.log, this.settings, this.plugins);
    const running = this.runPhases(run).then(() => run);
    // Tracked for close(); the caller handles the error, so this copy must not reject.
    this.running = running.then(
      () => {},
      () => {},
    ).finally(() => {
      this.running = null;
    });
    return running;
  }

  private async runPhases(run: SetupRun): Promise<void> {
    const phases = SETUP_PHASES.filter((phase) => run.mode === 'first-time' || !('firstTimeOnly' in phase));
    const started = performance.now();
    try {
      for (const phase of phases) {
        this.phase = phase.name;
        const exclusive = 'exclusive' in phase && phase.exclusive;
        if (exclusive && !run.session) run.session = await run.driver.lock();
        if (!exclusive && run.session) await this.releaseLock(run);
        const phaseStarted = performance.now();
        await phase.run(run);
        this.log.debug({ phase: phase.name, ms: Math.round(performance.now() - phaseStarted) }, 'setup phase done');
      }
      await this.releaseLock(run);
    } catch (error) {
      // A connection lost in any phase is the database being unavailable (503), not a bug (500).
      const failure = (!(error instanceof AppError) && run.hasDriver && run.driver.connectionLost(error)) || error;
      await this.rollBack(run, failure);
      throw failure;
    }
    this.driver = run.driver;
    setActiveDatabase(run.driver.db);
    this.state = 'ready';
    this.phase = null;
    this.configured = true;
    this.lastError = null;
    this.lastPing = null;
    if (run.mode === 'first-time') this.token.consume();
    // Plugins' own start-up: a plugin that throws is marked failed; it cannot stop the instance.
    await this.plugins.start(run.driver.db);
    this.log.info({ type: run.type, ms: Math.round(performance.now() - started) }, `Database ready (${run.type}, ${run.driver.target})`);
  }

  private async releaseLock(run: SetupRun): Promise<void> {
    const session = run.session;
    run.session = null;
    await session?.release();
  }

  /** Leaves nothing behind: lock released, connections closed, a PGlite folder made by this run removed. */
  private async rollBack(run: SetupRun, error: unknown): Promise<void> {
    await this.releaseLock(run).catch(() => {});
    this.settings.detach();
    this.plugins.stop();
    if (run.hasDriver) {
      await run.driver.close({ discardNew: run.mode === 'first-time' }).catch((closeError: unknown) => {
        this.log.warn({ err: closeError }, 'Closing the database after a failed setup failed');
      });
    }
    const message = this.recordError(error);
    this.phase = null;
    if (run.mode === 'first-time') {
      this.state = 'unconfigured';
      this.type = null;
    } else {
      this.state = 'error';
    }
    const isClientProblem = error instanceof AppError && error.statusCode < 500;
    // AppErrors carry a safe message; their cause (already scrubbed of secrets) has the stack.
    const detail = error instanceof AppError ? error.cause : error;
    this.log[isClientProblem ? 'warn' : 'error']({ err: detail }, `Setup failed: ${message}`);
  }
}
