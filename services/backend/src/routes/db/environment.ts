import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../../config.ts';
import type { SetupRunner } from '../../setup/setup-runner.ts';
import { errorRef } from '../../schemas/common.ts';
import { DatabaseEnvironmentSchema, SetupTokenHeaders } from '../../schemas/database.ts';
import { databaseEnvironment } from '../../setup/connection-test.ts';

/** What the server read from its environment about PostgreSQL (never the password). Host names are not public: needs the setup token. */
const environmentRoute: FastifyPluginAsyncTypebox<{ runner: SetupRunner; config: Config }> = async (app, { runner, config }) => {
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
      runner.authorizeSetupStep(request.headers['x-setup-token']);
      return databaseEnvironment(config);
    },
  );
};

export default environmentRoute;
