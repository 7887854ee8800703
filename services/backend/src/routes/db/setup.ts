import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorRef } from '../../schemas/common.ts';
import { DatabaseChoiceSchema, SetupResultSchema, SetupTokenHeaders } from '../../schemas/database.ts';
import type { SetupRunner } from '../../setup/setup-runner.ts';

/** First-time setup. Credentials for PostgreSQL come from the server's environment, never from here. */
const setupRoute: FastifyPluginAsyncTypebox<{ runner: SetupRunner }> = async (app, { runner }) => {
  app.post(
    '/api/db/setup',
    {
      bodyLimit: 1024,
      config: { availableBeforeReady: true },
      schema: {
        tags: ['database'],
        summary: 'Set up the database (needs the one-time setup token)',
        headers: SetupTokenHeaders,
        body: DatabaseChoiceSchema,
        response: { 200: SetupResultSchema, '4xx': errorRef, '5xx': errorRef },
      },
    },
    async (request) => runner.setUpFromRequest(request.body.type, request.headers['x-setup-token']),
  );
};

export default setupRoute;
