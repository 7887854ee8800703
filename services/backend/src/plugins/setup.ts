import fp from 'fastify-plugin';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { Config } from '../config.ts';
import { DatabaseNotReadyError } from '../errors.ts';
import { CORE_SETTINGS_GROUPS } from '../global-settings/index.ts';
import { EncryptionKeys } from '../global-settings/keys.ts';
import { SettingsStore } from '../global-settings/store.ts';
import { SetupService } from '../setup/setup-service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    setup: SetupService;
    settings: SettingsStore;
  }
  interface FastifyContextConfig {
    /** Routes that must answer before the database is ready (status, setup, health, docs). */
    availableBeforeReady?: boolean;
  }
}

/**
 * Owns the setup state machine and the settings store of this app, and keeps every other /api route at 503 until the
 * database is ready, so no handler has to check.
 */
export const setupPlugin = fp(
  async (app: FastifyInstance, options: { config: Config }) => {
    const settings = new SettingsStore(CORE_SETTINGS_GROUPS, new EncryptionKeys(options.config, app.log), app.log);
    const setup = new SetupService(options.config, app.log, settings);
    app.decorate('setup', setup);
    app.decorate('settings', settings);

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
