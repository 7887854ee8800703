import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorRef } from '../../schemas/common.ts';
import { DatabaseEnvironmentSchema, SetupTokenHeaders } from '../../schemas/database.ts';
import { databaseEnvironment } from '../../setup/connection-test.ts';

/** What the server read from its environment about PostgreSQL (never the password). Host names are not public: needs the setup token. */
const environmentRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/db/environment',
    {
      config: { availableBeforeReady: true },
      schema: {
        tags: ['database'],
        summary: 'PostgreSQL settings the server read from its environment, without the password (needs the setup token)',
        headers: SetupTokenHeaders,
        response: { 200: DatabaseEnvironmentSchema, '4xx': errorRef },
      },
    },
    async (request) => {
      app.setup.authorizeSetupStep(request.headers['x-setup-token']);
      return databaseEnvironment(app.config);
    },
  );
};

export default environmentRoute;
