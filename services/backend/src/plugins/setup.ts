import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import { DatabaseNotReadyError } from '../errors.ts';
import { SetupService } from '../setup/setup-service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    setup: SetupService;
  }
  interface FastifyContextConfig {
    /** Routes that must answer before the database is ready (status, setup, health, docs). */
    availableBeforeReady?: boolean;
  }
}

/**
 * Owns the setup state machine for this app and keeps every other /api route at 503 until the
 * database is ready, so no handler has to check.
 */
export const setupPlugin = fp(async (app: FastifyInstance, options: { config: Config }) => {
  const setup = new SetupService(options.config, app.log);
  app.decorate('setup', setup);

  app.addHook('onRequest', async (request) => {
    if (setup.isReady() || request.is404 || !request.url.startsWith('/api/')) return;
    if (request.routeOptions.config.availableBeforeReady || request.url.startsWith('/api/docs')) return;
    throw new DatabaseNotReadyError(setup.snapshot().state.replace('_', ' '));
  });

  app.addHook('onClose', () => setup.close());
});
