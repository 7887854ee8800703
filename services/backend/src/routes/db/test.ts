import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DatabaseTypeSchema, errorRef } from '../../schemas/common.ts';
import { testConnection } from '../../setup/connection-test.ts';

const TestBody = Type.Object({ type: DatabaseTypeSchema }, { additionalProperties: false });

const TestResponse = Type.Object(
  {
    ok: Type.Literal(true),
    type: DatabaseTypeSchema,
    version: Type.String({ description: 'What the server answered to `select version()`; for PGlite a description (nothing is opened).' }),
    round_trip_ms: Type.Number({ description: 'Time for `select version()` to come back, in milliseconds; 0 for PGlite.' }),
  },
  { additionalProperties: false },
);

/**
 * Lets the wizard check a database before choosing it. Changes nothing: no selection file, no
 * state change, no migrations; the test connection is closed before the answer is sent.
 */
const testRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api/db/test',
    {
      bodyLimit: 1024,
      config: { availableBeforeReady: true },
      schema: {
        tags: ['database'],
        summary: 'Test the connection to a database without setting it up (needs the setup token)',
        headers: Type.Object({ 'x-setup-token': Type.Optional(Type.String({ description: 'From the server log or PERSISTENT_DATA_DIR/setup-token.' })) }),
        body: TestBody,
        response: { 200: TestResponse, '4xx': errorRef, '5xx': errorRef },
      },
    },
    async (request) => {
      app.setup.authorizeSetupStep(request.headers['x-setup-token']);
      return testConnection(app.config, request.log, request.body.type);
    },
  );
};

export default testRoute;
