import Fastify, { type FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from './config.ts';
import { FRONTEND_DIST_DIR } from './paths.ts';
import { chooseLogFormat, prettyLogStream } from './log-format.ts';
import { errorHandlerPlugin } from './fastify/errors.ts';
import { frontendPlugin } from './fastify/frontend.ts';
import { gracefulClosePlugin } from './fastify/graceful-close.ts';
import { jsonBodyPlugin } from './fastify/json-body.ts';
import { capConnections, httpServerOptions } from './fastify/http-server.ts';
import { openApiPlugin } from './fastify/openapi.ts';
import { lazySerializers } from './fastify/lazy-serializers.ts';
import { createCore } from './core.ts';
import { corePlugin } from './fastify/core.ts';
import { adminAuthPlugin } from './fastify/admin-auth.ts';
import { hostCheckPlugin } from './fastify/host-check.ts';
import { metricsPlugin } from './fastify/metrics.ts';
import { corsPlugin } from './fastify/cors.ts';
import { securityHeadersPlugin } from './fastify/security-headers.ts';
import { tokenRateLimitPlugin } from './fastify/token-rate-limit.ts';
import locationRoute from './routes/db/location.ts';
import migrationsRoute from './routes/db/migrations.ts';
import setupRoute from './routes/db/setup.ts';
import setupPhasesRoute from './routes/db/setup-phases.ts';
import testRoute from './routes/db/test.ts';
import environmentRoute from './routes/db/environment.ts';
import statusRoute from './routes/db/status.ts';
import healthRoutes from './routes/health.ts';
import pluginsRoute from './routes/plugins.ts';
import { pluginRoutesPlugin } from './fastify/plugin-routes.ts';
import settingsGroupRoute from './routes/settings/group.ts';
import settingByKeyRoutes from './routes/settings/key.ts';
import listSettingsRoute from './routes/settings/list.ts';

export interface BuildAppOptions {
  /** Where log lines go (stdout by default); tests capture them to check that no secret leaks. */
  logStream?: { write(line: string): void };
  frontendDistDir?: string;
}

/** Builds the app without listening; the server and the tests both use it. */
export async function buildApp(config: Config, options: BuildAppOptions = {}) {
  // A stream the caller gives (tests) gets JSON; stdout gets LOG_FORMAT, or pretty on a terminal.
  const stream = options.logStream ?? (chooseLogFormat(config.logFormat) === 'pretty' ? await prettyLogStream() : null);
  const app = Fastify({
    logger: { ...loggerOptions(config), ...(stream ? { stream } : {}) },
    ajv: {
      // Reject what the schema does not allow instead of silently fixing it.
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true },
    },
    schemaController: { compilersFactory: { buildSerializer: lazySerializers } },
    // Setup's own bodies are tiny; routes that take more raise this per route.
    bodyLimit: 64 * 1024,
    return503OnClosing: true,
    ...httpServerOptions(config.http),
    // Errors Fastify raises before routing (a malformed URL, an over-long parameter) get the one shape too.
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      void reply.code(400).send({ error: 'bad_request', message: `The request could not be routed: ${error.message}` });
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  capConnections(app, config.http);

  // The API speaks JSON only: text/plain bodies get a clear 400 instead of reaching a schema as a string.
  app.removeContentTypeParser('text/plain');
  // Before any route or plugin: bodies nested too deeply are refused before anything walks them.
  await app.register(jsonBodyPlugin);

  await app.register(errorHandlerPlugin);
  await app.register(securityHeadersPlugin);
  await app.register(tokenRateLimitPlugin);
  await app.register(gracefulClosePlugin);
  await app.register(hostCheckPlugin, { config });
  await app.register(openApiPlugin);
  const core = await createCore(config, app.log);
  await app.register(corePlugin, { core });
  await app.register(metricsPlugin, { metrics: core.metrics, token: config.metrics.token });
  await app.register(corsPlugin);
  await app.register(adminAuthPlugin, { core });

  // Each route gets the parts it uses: route → service → database, followed by import.
  await app.register(healthRoutes, { readiness: core.readiness });
  await app.register(statusRoute, { status: core.status });
  await app.register(setupRoute, { runner: core.runner });
  await app.register(setupPhasesRoute);
  await app.register(testRoute, { runner: core.runner, config });
  await app.register(environmentRoute, { runner: core.runner, config });
  await app.register(migrationsRoute, { active: core.active });
  await app.register(locationRoute, { active: core.active });
  await app.register(listSettingsRoute, { settings: core.settings });
  await app.register(settingByKeyRoutes, { settings: core.settings });
  await app.register(settingsGroupRoute, { settings: core.settings });
  await app.register(pluginsRoute, { plugins: core.plugins });
  await app.register(pluginRoutesPlugin);

  await app.register(frontendPlugin, { distDir: options.frontendDistDir ?? FRONTEND_DIST_DIR });
  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;

function loggerOptions(config: Config) {
  return {
    level: config.logLevel,
    // Secrets never reach the log: headers that carry them, and the token in a /setup link.
    redact: { paths: ['req.headers.authorization', 'req.headers["x-setup-token"]', '*.password'], censor: '[redacted]' },
    serializers: {
      req: (request: { method: string; url: string; ip?: string }) => ({
        method: request.method,
        url: request.url.replace(/([?&]token=)[^&]*/g, '$1[redacted]'),
        remoteAddress: request.ip,
      }),
    },
  };
}
