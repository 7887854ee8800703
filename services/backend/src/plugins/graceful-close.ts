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
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
});
