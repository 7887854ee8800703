import fp from 'fastify-plugin';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';

/**
 * While the server shuts down, requests already running still get their answer, with
 * `Connection: close` so the client's keep-alive socket does not hold the shutdown open.
 * Connections that are idle or still sending a request (a stalled upload, headers sent a byte at a
 * time) are closed as soon as no request is being answered, instead of holding the shutdown until
 * their timeout.
 */
export const gracefulClosePlugin = fp(async (app: FastifyInstance) => {
  let closing = false;
  // Responses not yet closed; their request tells whether it arrived in full.
  const open = new Set<ServerResponse>();

  const closeStalledOnceAnswered = () => {
    for (const response of open) if (response.req.complete) return; // the last one to close calls again
    // Fastify stops the listener right after the preClose hooks; closing before that would let a
    // new connection slip in behind.
    if (app.server.listening) setTimeout(closeStalledOnceAnswered, 5);
    else app.server.closeAllConnections();
  };

  app.server.on('request', (_request, response: ServerResponse) => {
    open.add(response);
    response.once('close', () => {
      open.delete(response);
      if (closing) closeStalledOnceAnswered();
    });
  });

  app.addHook('preClose', async () => {
    closing = true;
    closeStalledOnceAnswered();
  });
  // Callback style: an async hook would cost a promise on every response.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
});
