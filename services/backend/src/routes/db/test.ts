import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../../config.ts';
import type { SetupRunner } from '../../setup/setup-runner.ts';
import { errorRef } from '../../schemas/common.ts';
import { ConnectionTestResultSchema, DatabaseChoiceSchema, SetupTokenHeaders } from '../../schemas/database.ts';
import { testConnection } from '../../setup/connection-test.ts';

/**
 * Lets the wizard check a database before choosing it. Changes nothing: no selection file, no
 * state change, no migrations; the test connection is closed before the answer is sent.
 */
const testRoute: FastifyPluginAsyncTypebox<{ runner: SetupRunner; config: Config }> = async (app, { runner, config }) => {
  app.post(
    '/api/db/test',
    {
      bodyLimit: 1024,
      config: { availableBeforeReady: true },
      schema: {
        tags: ['database'],
        summary: 'Test the connection to a database without setting it up (needs the setup token)',
        headers: SetupTokenHeaders,
        body: DatabaseChoiceSchema,
        response: { 200: ConnectionTestResultSchema, '4xx': errorRef, '5xx': errorRef },
      },
    },
    async (request) => {
      runner.authorizeSetupStep(request.headers['x-setup-token']);
      return testConnection(config, request.log, request.body.type);
    },
  );
};

export default testRoute;
