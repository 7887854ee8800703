import fp from 'fastify-plugin';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { Config } from '../config.ts';
import { closeCore, type Core } from '../core.ts';
import { READ_METHODS, type WritesInFlight } from '../control/writes-in-flight.ts';
import { MaintenanceError } from '../errors.ts';
import type { ActiveDatabase } from '../db/active-database.ts';
import type { SettingsStore } from '../global-settings/store.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import type { BootSequence } from '../setup/boot.ts';
import type { SetupStatus } from '../setup/setup-status.ts';

declare module 'fastify' {
  interface FastifyInstance {
    // The app's parts, for the server entry, plugins and tests. The core's own routes get what
    // they use as options instead (see app.ts), so their calls can be followed by import.
    config: Config;
    setupStatus: SetupStatus;
    activeDatabase: ActiveDatabase;
    boot: BootSequence;
    settings: SettingsStore;
    plugins: PluginRegistry;
    writesInFlight: WritesInFlight;
  }
  interface FastifyContextConfig {
    /** Routes that must answer before the database is ready (status, setup, health, docs). */
    availableBeforeReady?: boolean;
  }
}

/**
 * Makes the app's parts available, keeps every other /api route at 503 until the database is
 * ready (so no handler has to check), binds getDb() to this app's database for the request, and
 * closes the database with the app.
 */
export const corePlugin = fp(
  async (app: FastifyInstance, { core }: { core: Core }) => {
    app.decorate('config', core.config);
    app.decorate('setupStatus', core.status);
    app.decorate('activeDatabase', core.active);
    app.decorate('boot', core.boot);
    app.decorate('settings', core.settings);
    app.decorate('plugins', core.plugins);
    app.decorate('writesInFlight', core.writes);

    // Attached only to the /api routes that need the database, so status and health (polled
    // by operators and load balancers) run no hook at all.
    // In maintenance (a move running) reads are served and writes get 503 `maintenance`; the
    // writes admitted before it began are counted, so the move starts once they have finished.
    const guard: onRequestHookHandler = (request, reply, done) => {
      const isWrite = !READ_METHODS.has(request.method);
      if (isWrite && core.status.isInMaintenance) {
        void reply.header('retry-after', String(MaintenanceError.retryAfterSeconds));
        return done(new MaintenanceError());
      }
      if (!core.status.isServing()) return done(core.status.notReadyError());
      if (isWrite) reply.raw.once('close', core.writes.enter());
      core.active.scope(() => done());
    };
    app.addHook('onRoute', (route) => {
      if (!route.url.startsWith('/api/') || route.url.startsWith('/api/docs') || route.config?.availableBeforeReady) return;
      route.onRequest = [guard, ...(route.onRequest ? [route.onRequest].flat() : [])];
    });

    app.addHook('onClose', () => closeCore(core));
  },
  { name: 'groundwork-core' },
);
