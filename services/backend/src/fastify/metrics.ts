import { createHash, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { AppError } from '../errors.ts';
import type { AppMetrics } from '../metrics/registry.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * GET /metrics in Prometheus's text format, outside /api (the convention scrapers expect) and
 * before setup too (it never touches the database). Without metrics (METRICS_ENABLED unset) it is
 * a 404 like an unknown path (not the web app's page, which unknown paths get once it is built).
 * With a token, only `Authorization: Bearer <token>` may read it; a wrong one counts toward the
 * token rate limit (token-rate-limit.ts).
 */
export const metricsPlugin = fp(async (app: FastifyInstance, options: { metrics: AppMetrics | null; token: string | null }) => {
  const { metrics, token } = options;
  if (!metrics) {
    app.get('/metrics', { config: { availableBeforeReady: true }, schema: { hide: true } }, async () => {
      throw new AppError(404, 'not_found', 'Nothing at GET /metrics: metrics are off (set METRICS_ENABLED=true to serve them).');
    });
    return;
  }

  // Every request, by its route's pattern (unmatched ones share one label, so scans add no series).
  app.addHook('onResponse', async (request, reply) => {
    metrics.requestFinished(request.method, request.routeOptions.url ?? '(unmatched)', reply.statusCode, reply.elapsedTime / 1000);
  });

  app.get(
    '/metrics',
    {
      config: { availableBeforeReady: true },
      ...(token && { onRequest: requireBearer(sha256(token)) }),
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics (METRICS_ENABLED; `Authorization: Bearer <METRICS_TOKEN>` when that is set)',
      },
    },
    async (_request, reply) => {
      const { contentType, body } = await metrics.scrape();
      return reply.type(contentType).send(body);
    },
  );
});

/** Compares digests in constant time, so the answer's timing tells nothing about the token. */
function requireBearer(expected: Buffer): onRequestHookHandler {
  return (request, _reply, done) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) {
      return done(new AppError(401, 'metrics_token_required', 'Send the metrics token (METRICS_TOKEN) as `Authorization: Bearer <token>`.'));
    }
    if (!timingSafeEqual(sha256(match[1]!), expected)) {
      return done(new AppError(401, 'invalid_metrics_token', 'The metrics token is wrong: it must be the server\'s METRICS_TOKEN.'));
    }
    done();
  };
}
