import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DatabaseTypeSchema, errorRef } from '../../schemas/common.ts';

const SetupBody = Type.Object({ type: DatabaseTypeSchema }, { additionalProperties: false });

const SetupResponse = Type.Object(
  {
    message: Type.String(),
    restart_required: Type.Boolean(),
    database_type: DatabaseTypeSchema,
    admin_token: Type.Optional(Type.String({ description: 'The admin API token, shown this once. Only its hash is stored.' })),
  },
  { additionalProperties: false },
);

/** First-time setup. Credentials for PostgreSQL come from the server's environment, never from here. */
const setupRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api/db/setup',
    {
      bodyLimit: 1024,
      config: { availableBeforeReady: true },
      schema: {
        tags: ['database'],
        summary: 'Set up the database (needs the one-time setup token)',
        headers: Type.Object({ 'x-setup-token': Type.Optional(Type.String({ description: 'From the server log or PERSISTENT_DATA_DIR/setup-token.' })) }),
        body: SetupBody,
        response: { 200: SetupResponse, '4xx': errorRef, '5xx': errorRef },
      },
    },
    async (request) => app.setup.setUp(request.body.type, request.headers['x-setup-token']),
  );
};

export default setupRoute;
