import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
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

    app.addHook('onRequest', async (request) => {
      if (setup.isReady() || request.is404 || !request.url.startsWith('/api/')) return;
      if (request.routeOptions.config.availableBeforeReady || request.url.startsWith('/api/docs')) return;
      throw new DatabaseNotReadyError(setup.snapshot().state.replace('_', ' '));
    });

    app.addHook('onClose', () => setup.close());
  },
  { name: 'groundwork-setup' },
);
