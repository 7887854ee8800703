import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { ErrorResponse } from '../schemas/common.ts';
import { SettingSchema } from '../schemas/settings.ts';
import { APP_VERSION } from '../version.ts';

/** OpenAPI from the route schemas; the UI at /api/docs works before setup too. */
export const openApiPlugin = fp(async (app: FastifyInstance) => {
  app.addSchema(ErrorResponse);
  app.addSchema(SettingSchema);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Groundwork API', version: APP_VERSION, description: 'Set up and operate a Groundwork instance.' },
      tags: [
        { name: 'database', description: 'Setup and state of the database' },
        { name: 'health', description: 'Liveness and readiness probes' },
        { name: 'settings', description: 'Global settings (admin token)' },
        { name: 'plugins', description: 'Installed plugins (admin token); each plugin\'s own routes are under /api/plugins/<id>/' },
      ],
      components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'The admin token from setup or `npm run admin:token`.' } } },
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/api/docs',
    // Swagger UI sets an inline style; only its own pages allow that (scripts stay the app's own).
    transformStaticCSP: (header) => header.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
  });
});
