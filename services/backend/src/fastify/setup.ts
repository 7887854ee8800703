import fp from 'fastify-plugin';
import { is } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { Config } from '../config.ts';
import { DatabaseNotReadyError } from '../errors.ts';
import { CORE_SETTINGS_GROUPS } from '../global-settings/index.ts';
import { EncryptionKeys } from '../global-settings/keys.ts';
import { SettingsStore } from '../global-settings/store.ts';
import { SetupService } from '../setup/setup-service.ts';
import { loadPlugins } from '../plugins/loader.ts';
import { databaseNames } from '../plugins/names.ts';
import { PluginRegistry, pluginSettingsGroups } from '../plugins/registry.ts';
import * as coreSchema from '../db/schema/index.ts';

/** Names the core's tables use in the database: no plugin may take them. */
function coreDatabaseNames(): string[] {
  return (Object.values(coreSchema) as unknown[])
    .filter((value): value is PgTable => is(value, PgTable))
    .flatMap((table) => databaseNames(table).map((entry) => entry.name));
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    setup: SetupService;
    settings: SettingsStore;
    plugins: PluginRegistry;
  }
  interface FastifyContextConfig {
    /** Routes that must answer before the database is ready (status, setup, health, docs). */
    availableBeforeReady?: boolean;
  }
}

/**
 * Owns the setup state machine, the settings store and the plugins of this app, and keeps every other /api route at 503 until the
 * database is ready, so no handler has to check.
 */
export const setupPlugin = fp(
  async (app: FastifyInstance, options: { config: Config }) => {
    const loaded = await loadPlugins(options.config.pluginsDir, coreDatabaseNames());
    const groups = [...CORE_SETTINGS_GROUPS, ...pluginSettingsGroups(loaded.plugins)];
    const settings = new SettingsStore(groups, new EncryptionKeys(options.config, app.log), app.log);
    const plugins = new PluginRegistry(loaded, options.config.disabledPlugins, settings, app.log);
    const setup = new SetupService(options.config, app.log, settings, plugins);
    app.decorate('config', options.config);
    app.decorate('setup', setup);
    app.decorate('settings', settings);
    app.decorate('plugins', plugins);

    // Attached only to the /api routes that need the database, so status and health (polled
    // by operators and load balancers) run no hook at all.
    const guard: onRequestHookHandler = (_request, _reply, done) => {
      done(setup.isReady() ? undefined : new DatabaseNotReadyError(setup.snapshot().state.replace('_', ' ')));
    };
    app.addHook('onRoute', (route) => {
      if (!route.url.startsWith('/api/') || route.url.startsWith('/api/docs') || route.config?.availableBeforeReady) return;
      route.onRequest = [guard, ...(route.onRequest ? [route.onRequest].flat() : [])];
    });

    app.addHook('onClose', () => setup.close());
  },
  { name: 'groundwork-setup' },
);
