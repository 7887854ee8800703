import type { FastifyBaseLogger } from 'fastify';
import type { Config, DatabaseType } from '../config.ts';
import type { PhaseName, SETUP_PHASE_NAMES } from '../schemas/database.ts';
import { openDriver, type DatabaseDriver, type SchemaTransaction } from '../db/drivers/index.ts';
import { SELECTION_FORMAT_VERSION, writeSelection } from '../db/selection.ts';
import { setupRecord } from '../db/schema/index.ts';
import { readJournal } from '../db/migrations.ts';
import { AppError, MigrationFailedError, rootMessage } from '../errors.ts';
import { APP_VERSION } from '../version.ts';
import { pauseForTests } from '../test-pause.ts';
import { issueAdminToken } from '../admin/tokens.ts';
import type { SettingsStore } from '../global-settings/store.ts';
import type { PluginRegistry } from '../plugins/registry.ts';

/** What the phases of one setup run share. The runner opens and ends the schema transaction, phases do the work. */
export class SetupRun {
  private openedDriver: DatabaseDriver | null = null;
  /** The driver being opened ahead of this run (SetupRunner.connectAhead), for the connect phase. */
  opening: Promise<DatabaseDriver> | null = null;
  session: SchemaTransaction | null = null;
  /** Set by the commit phase of a setup through HTTP: shown once in the response. */
  adminToken: string | null = null;
  /** Set by the commit phase when the database was already set up: this instance joined it. */
  adopted = false;

  constructor(
    readonly type: DatabaseType,
    readonly mode: 'first-time' | 'boot',
    /** Only a person at the wizard or API can be shown a new admin token; headless setup makes none. */
    readonly issueAdminToken: boolean,
    readonly config: Config,
    readonly log: FastifyBaseLogger,
    readonly settings: SettingsStore,
    readonly plugins: PluginRegistry,
  ) {}

  get driver(): DatabaseDriver {
    if (!this.openedDriver) throw new Error('The connect phase has not run');
    return this.openedDriver;
  }

  set driver(driver: DatabaseDriver) {
    this.openedDriver = driver;
  }

  get hasDriver(): boolean {
    return this.openedDriver !== null;
  }

  get exclusive(): SchemaTransaction {
    if (!this.session) throw new Error('This phase must be declared exclusive');
    return this.session;
  }

  /** Commits the schema transaction (its lock goes with it). */
  async commitSchemaWork(): Promise<void> {
    const session = this.session;
    this.session = null;
    await session?.commit();
  }

  /** Nothing of a failed run's schema transaction is kept: another replica (or a retry) does it again. */
  async abortSchemaWork(): Promise<void> {
    const session = this.session;
    this.session = null;
    await session?.abort();
  }
}

export interface SetupPhase {
  readonly name: PhaseName;
  /** What the phase does, in the words the wizard shows (GET /api/db/setup/phases). */
  readonly label: string;
  /**
   * Runs inside the schema transaction, which holds the schema lock (a transaction-scoped advisory
   * lock on PostgreSQL): consecutive exclusive phases share one transaction, committed after the last.
   */
  readonly exclusive?: boolean;
  /** Runs only when an instance is set up, not at every boot. */
  readonly firstTimeOnly?: boolean;
  run(run: SetupRun): Promise<void>;
}

/**
 * The steps of setup, in order. Boot runs the same list without the first-time steps.
 */
export const SETUP_PHASES = [
  {
    name: 'connect',
    label: 'Connect to the database',
    async run(run) {
      run.driver = await (run.opening ?? openDriver(run.type, run.config, run.log, { newPglite: 'migrated', forSetup: true }));
    },
  },
  {
    name: 'migrate',
    label: 'Create and update the tables',
    exclusive: true,
    async run(run) {
      try {
        const comparison = await run.exclusive.migrate();
        // Once per database, whichever replica holds the lock first: the others find nothing pending.
        if (comparison.schema === 'current' && comparison.pending > 0) {
          const applied = readJournal().slice(-comparison.pending).map((entry) => entry.tag);
          run.log.info({ migrations: applied }, `Applied ${applied.length} migration(s): ${applied.join(', ')}`);
        }
        if (comparison.schema === 'ahead') {
          run.log.warn(
            { unknownMigrations: comparison.unknown },
            `The database is ahead of this release: a newer release applied ${comparison.unknown.join(', ')}. No migrations run here; this replica keeps serving until it is upgraded (GET /api/db/migrations shows schema "ahead").`,
          );
        }
      } catch (error) {
        if (error instanceof AppError) throw error;
        throw run.driver.connectionLost(error) ?? new MigrationFailedError(`A database migration failed: ${rootMessage(error)}`, { cause: error });
      }
    },
  },
  {
    name: 'settings',
    label: 'Prepare the settings',
    exclusive: true,
    async run(run) {
      await run.settings.prepare(run.exclusive.db, run.driver);
    },
  },
  {
    // After the core migrations, in the same transaction: each plugin's tables in a savepoint of its own.
    name: 'plugins',
    label: 'Prepare the plugins',
    exclusive: true,
    async run(run) {
      await run.plugins.syncSchemas(run.exclusive.db);
    },
  },
  {
    // Under the schema lock: of two first setups on one database, one records the setup and may
    // issue the admin token; the other finds the record and joins (adopts) that installation, so
    // no setup ever replaces a live admin token. The selection file is written last: it exists
    // only for a database that is fully set up.
    name: 'commit',
    label: 'Save the choice',
    exclusive: true,
    firstTimeOnly: true,
    async run(run) {
      await run.exclusive.db.transaction(async (tx) => {
        const recorded = await tx
          .insert(setupRecord)
          .values({ databaseType: run.type, appVersion: APP_VERSION })
          .onConflictDoNothing()
          .returning({ id: setupRecord.id });
        run.adopted = recorded.length === 0;
        if (run.issueAdminToken && !run.adopted) run.adminToken = await issueAdminToken(tx);
      });
      // Everything is in the database before the file that says so exists.
      await run.commitSchemaWork();
      await pauseForTests('setup:commit:recorded');
      writeSelection(run.config.persistentDataDir, {
        type: run.type,
        selectedAt: new Date().toISOString(),
        version: SELECTION_FORMAT_VERSION,
      });
    },
  },
] as const satisfies readonly SetupPhase[];

// The API's schemas name the phases too (schemas/database.ts: status, errors): same names, same order.
type NamesOf<Phases> = { -readonly [K in keyof Phases]: Phases[K] extends { name: infer Name } ? Name : never };
type Names = NamesOf<typeof SETUP_PHASES>;
type ApiNames = [...typeof SETUP_PHASE_NAMES];
type MustBeTrue<T extends true> = T;
export type PhaseOrderMatchesApi = MustBeTrue<Names extends ApiNames ? (ApiNames extends Names ? true : false) : false>;

