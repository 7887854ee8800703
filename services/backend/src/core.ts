import { is } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.ts';
import { WritesInFlight } from './control/writes-in-flight.ts';
import { ActiveDatabase } from './db/active-database.ts';
import { pgliteDataDir } from './db/drivers/index.ts';
import { discardPgliteSetup, preparePgliteBoot } from './db/drivers/pglite-preparation.ts';
import * as coreSchema from './db/schema/index.ts';
import { CORE_SETTINGS_GROUPS } from './global-settings/index.ts';
import { EncryptionKeys } from './global-settings/keys.ts';
import { SettingsStore } from './global-settings/store.ts';
import { AppMetrics } from './metrics/registry.ts';
import { loadPlugins } from './plugins/loader.ts';
import { databaseNames } from './plugins/names.ts';
import { PluginRegistry, pluginSettingsGroups } from './plugins/registry.ts';
import { BootSequence } from './setup/boot.ts';
import { ReadinessProbe } from './setup/readiness.ts';
import { SetupRunner } from './setup/setup-runner.ts';
import { SetupStatus } from './setup/setup-status.ts';
import { SetupToken } from './setup/token.ts';

/** The parts of one app, each the one owner of its piece of state, wired once here. */
export interface Core {
  readonly config: Config;
  /** The database in use: the only holder of the driver (setup activates it, shutdown closes it). */
  readonly active: ActiveDatabase;
  /** What GET /api/db/status reports. */
  readonly status: SetupStatus;
  /** Runs the setup phases (HTTP setup and every boot). */
  readonly runner: SetupRunner;
  /** What the server does at start: reconnect, headless setup, adoption, or wait for the wizard. */
  readonly boot: BootSequence;
  readonly readiness: ReadinessProbe;
  readonly settings: SettingsStore;
  readonly plugins: PluginRegistry;
  /** What GET /metrics shows; null unless METRICS_ENABLED. */
  readonly metrics: AppMetrics | null;
  /** Write requests being handled: a maintenance waits for them before it starts. */
  readonly writes: WritesInFlight;
}

/** Names the core's tables use in the database: no plugin may take them. */
function coreDatabaseNames(): string[] {
  return (Object.values(coreSchema) as unknown[])
    .filter((value): value is PgTable => is(value, PgTable))
    .flatMap((table) => databaseNames(table).map((entry) => entry.name));
}

/** Builds the app's parts; nothing connects until `boot.start()` or a setup request. */
export async function createCore(config: Config, log: FastifyBaseLogger): Promise<Core> {
  const loaded = await loadPlugins(config.pluginsDir, coreDatabaseNames());
  const active = new ActiveDatabase();
  const status = new SetupStatus();
  const token = new SetupToken(config.persistentDataDir, config.setupToken);
  const groups = [...CORE_SETTINGS_GROUPS, ...pluginSettingsGroups(loaded.plugins)];
  const settings = new SettingsStore(active, groups, new EncryptionKeys(config, log), log);
  // scrypt (ENCRYPTION_SECRET) in the thread pool while the app builds, listens and connects.
  settings.prepareKeyForThisInstallation();
  // PGlite's WebAssembly compiles on background threads meanwhile too, when this start will open it
  // (and a PGlite setup is prepared, when it will be the only choice).
  preparePgliteBoot(config, log);
  const plugins = new PluginRegistry(active, loaded, config.disabledPlugins, settings, log);
  const metrics = config.metrics.enabled ? new AppMetrics() : null;
  metrics?.watch({ status, active, settings, plugins });
  const runner = new SetupRunner({ config, log, status, active, token, settings, plugins, observer: metrics });
  const boot = new BootSequence(config, log, status, runner, token);
  const readiness = new ReadinessProbe(status, active, log);
  return { config, active, status, runner, boot, readiness, settings, plugins, metrics, writes: new WritesInFlight() };
}

/** Stops retries, lets a running setup finish, then closes the database. */
export async function closeCore(core: Core): Promise<void> {
  core.boot.stop();
  await core.runner.settle();
  await core.runner.discardAhead();
  core.settings.detach();
  await core.active.close();
  await discardPgliteSetup(pgliteDataDir(core.config));
}
