import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

/**
 * While the server shuts down, requests already running still get their answer, with
 * `Connection: close` so the client's keep-alive socket does not hold the shutdown open.
 */
export const gracefulClosePlugin = fp(async (app: FastifyInstance) => {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Callback style: an async hook would cost a promise on every response.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
});
