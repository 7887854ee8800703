import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
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
  await app.register(docsUiPlugin);
});

// Hop-by-hop and length headers: the reply that carries the page computes its own.
const NOT_FORWARDED = new Set(['connection', 'content-length', 'date', 'keep-alive', 'transfer-encoding']);

/**
 * The UI at /api/docs, loaded when first asked for (not at boot: an idle server need not hold it).
 * It runs in a small Fastify instance of its own that reads this app's OpenAPI description; its
 * answers go out through this app's routes, so they get the same security headers, and a path it
 * does not know is this app's 404.
 */
const docsUiPlugin = async (app: FastifyInstance) => {
  let docsApp: Promise<FastifyInstance> | null = null;
  const loadDocsApp = async () => {
    const { default: swaggerUi } = await import('@fastify/swagger-ui');
    const docs = Fastify({ logger: false });
    // What the UI asks of @fastify/swagger (the description): this app's.
    const description = fp(
      async (instance: FastifyInstance) => {
        instance.decorate('swagger', ((options?: { yaml?: boolean }) => app.swagger(options as never)) as never);
      },
      { name: '@fastify/swagger' },
    );
    await docs.register(description);
    await docs.register(swaggerUi, { routePrefix: '/api/docs' });
    await docs.ready();
    return docs;
  };
  // Swagger UI sets an inline style; only its own pages allow that (scripts stay the app's own).
  app.addHook('onSend', async (_request, reply) => {
    const header = reply.getHeader('content-security-policy');
    if (typeof header === 'string' && reply.statusCode !== 404) reply.header('content-security-policy', header.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"));
  });
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    docsApp ??= loadDocsApp().catch((error: unknown) => {
      docsApp = null;
      throw error;
    });
    const answer = await (await docsApp).inject({ method: 'GET', url: request.url, headers: request.headers });
    if (answer.statusCode === 404) return reply.callNotFound();
    for (const [name, value] of Object.entries(answer.headers)) if (!NOT_FORWARDED.has(name) && value !== undefined) reply.header(name, value);
    return reply.status(answer.statusCode).send(answer.rawPayload);
  };
  for (const url of ['/api/docs', '/api/docs/*']) app.get(url, { schema: { hide: true } }, handler);
};
