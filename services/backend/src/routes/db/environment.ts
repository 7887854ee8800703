import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorRef } from '../../schemas/common.ts';
import { databaseEnvironment } from '../../setup/connection-test.ts';

const EnvironmentResponse = Type.Object(
  {
    postgresql: Type.Object(
      {
        configured: Type.Boolean({ description: 'DATABASE_URL or the POSTGRES_* variables are set.' }),
        host: Type.Optional(Type.String()),
        port: Type.Optional(Type.Integer()),
        database: Type.Optional(Type.String()),
        user: Type.Optional(Type.String()),
        ssl: Type.Optional(Type.Boolean({ description: 'Connects with TLS.' })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** What the server read from its environment about PostgreSQL (never the password). Host names are not public: needs the setup token. */
const environmentRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/db/environment',
    {
      config: { availableBeforeReady: true },
      schema: {
        tags: ['database'],
        summary: 'PostgreSQL settings the server read from its environment, without the password (needs the setup token)',
        headers: Type.Object({ 'x-setup-token': Type.Optional(Type.String({ description: 'From the server log or PERSISTENT_DATA_DIR/setup-token.' })) }),
        response: { 200: EnvironmentResponse, '4xx': errorRef },
      },
    },
    async (request) => {
      app.setup.authorizeSetupStep(request.headers['x-setup-token']);
      return databaseEnvironment(app.config);
    },
  );
};

export default environmentRoute;
