import type { FastifyBaseLogger } from 'fastify';
import type { Config, DatabaseType } from '../config.ts';
import { readSelection } from '../db/selection.ts';
import { AppError, DatabaseUnavailableError } from '../errors.ts';
import { SETUP_LINK_FIELD } from '../log-format.ts';
import { assertDataFolder } from '../storage.ts';
import { isSetUpElsewhere } from './adoption.ts';
import type { SetupRun } from './phases.ts';
import type { SetupRunner } from './setup-runner.ts';
import type { SetupStatus } from './setup-status.ts';
import type { SetupToken } from './token.ts';

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/**
 * What a starting server does, from what is on disk: a selection file → run the phases again;
 * none → set up headlessly when DB_TYPE is set, join a PostgreSQL database another replica set
 * up, or wait for the wizard. A database that does not answer is retried with backoff, so the
 * order in which containers start does not matter.
 */
export class BootSequence {
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelayMs = FIRST_RETRY_MS;
  private stopped = false;

  constructor(
    private readonly config: Config,
    private readonly log: FastifyBaseLogger,
    private readonly status: SetupStatus,
    private readonly runner: SetupRunner,
    private readonly token: SetupToken,
  ) {}

  /** Resolves after the first attempt. `baseUrl` is where this server listens, for the setup link in the log. */
  async start(baseUrl: string): Promise<void> {
    try {
      assertDataFolder(this.config.persistentDataDir);
    } catch (error) {
      this.refuse(error);
      return;
    }
    const selection = readSelection(this.config.persistentDataDir);
    if (selection.status === 'invalid') {
      this.status.refuse(new AppError(409, 'selection_invalid', selection.message), selection.message);
      this.log.error(selection.message);
      return;
    }
    if (selection.status === 'ok') {
      this.status.markConfigured();
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

  /**
   * Before the server listens: an instance set up on PostgreSQL starts connecting, so the boot's
   * connect phase finds the connection open. Only what start() would do anyway; start() decides.
   */
  connectAhead(): void {
    try {
      assertDataFolder(this.config.persistentDataDir);
    } catch {
      return; // start() refuses the folder and says why.
    }
    const selection = readSelection(this.config.persistentDataDir);
    if (selection.status === 'ok' && selection.selection.type === 'postgresql') this.runner.connectAhead('postgresql');
  }

  /** No more retries (shutdown). */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private refuse(error: unknown): void {
    this.log.error(this.status.refuse(error));
  }

  /**
   * Joins the environment's PostgreSQL database when another replica set it up, else offers the
   * wizard. While that server cannot be reached nobody can tell which, so neither happens: status
   * shows the check (setting_up, phase connect) and it is retried with backoff.
   */
  private async adoptOrOfferSetup(baseUrl: string): Promise<void> {
    let setUpElsewhere = false;
    try {
      if (this.config.postgres) {
        this.status.probing();
        setUpElsewhere = await isSetUpElsewhere(this.config, this.log);
      }
    } catch (error) {
      if (this.stopped) return;
      this.status.probing(error);
      this.retryLater(() => this.adoptOrOfferSetup(baseUrl));
      this.log.warn(`Cannot tell yet whether the PostgreSQL database in the environment is already set up, so setup waits: ${this.status.errorDetail}`);
      return;
    }
    if (this.stopped) return;
    this.status.awaitSetup();
    this.retryDelayMs = FIRST_RETRY_MS;
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
      this.refuse(error);
    }
  }

  private announceSetup(baseUrl: string): void {
    const { token, source } = this.token.ensure();
    this.runner.prepareFirstSetup();
    if (source === 'environment') {
      const link = `${baseUrl}/setup`;
      this.log.info({ [SETUP_LINK_FIELD]: link }, `Not set up yet. Open ${link} and enter the SETUP_TOKEN from the environment.`);
    } else {
      const link = `${baseUrl}/setup?token=${token}`;
      this.log.info({ [SETUP_LINK_FIELD]: link }, `Not set up yet. Open ${link} (the token is also in ${this.token.path}).`);
    }
  }

  /** One run of the phases; a database that does not answer is tried again later. */
  private async attempt(type: DatabaseType, mode: SetupRun['mode']): Promise<void> {
    try {
      const run = await this.runner.run(type, mode, false);
      this.retryDelayMs = FIRST_RETRY_MS;
      if (run.adopted) this.log.info('Joined an existing installation: the database was already set up.');
      else if (mode === 'first-time') this.log.info('Set up without the wizard. Run `npm run admin:token` on the server to get an admin API token.');
    } catch (error) {
      if (!(error instanceof DatabaseUnavailableError) || this.stopped) return;
      this.retryLater(() => this.attempt(type, mode));
    }
  }

  /** Runs `again` after a delay that doubles each time (up to 30 s), and says so in status. */
  private retryLater(again: () => Promise<void>): void {
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(delay * 2, MAX_RETRY_MS);
    this.status.appendToError(`Retrying in ${delay / 1000} s.`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      // A setup through the wizard may have started or finished meanwhile: then it decides.
      if (this.status.isReady() || (this.status.isSettingUp && !this.status.isProbing)) return;
      void again();
    }, delay);
  }
}
