import fp from 'fastify-plugin';
import helmet from 'helmet';
import type { FastifyInstance } from 'fastify';

/**
 * Security headers on every page and API answer (helmet): a CSP that runs only this app's own
 * scripts and styles and forbids framing, no Referer (a /setup?token= link must not leak), nosniff.
 * API answers are never cached: some carry a token (setup's admin token) and none go stale safely.
 */
const applySecurityHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      scriptSrcAttr: ["'none'"],
      // Vite builds every style into a file; Swagger UI's stylesheet draws icons as data: images.
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  referrerPolicy: { policy: 'no-referrer' },
  xFrameOptions: { action: 'deny' },
  // HTTPS and HSTS belong to whatever terminates TLS in front of the server, not to a plain-HTTP app.
  strictTransportSecurity: false,
});

export const securityHeadersPlugin = fp(async (app: FastifyInstance) => {
  // helmet's own middleware, built once above. @fastify/helmet rebuilds it (and re-parses the CSP)
  // on every request, which was the largest cost of a GET /api/db/status under load.
  app.addHook('onRequest', (request, reply, done) => {
    applySecurityHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined));
  });

  // Callback style: an async hook would cost a promise on every response.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.url.startsWith('/api/') && !request.url.startsWith('/api/docs')) reply.header('cache-control', 'no-store');
    done(null, payload);
  });
});
