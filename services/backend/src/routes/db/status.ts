import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DatabaseTypeSchema } from '../../schemas/common.ts';
import { PHASE_NAMES } from '../../setup/phases.ts';

export const DbStatusResponse = Type.Object(
  {
    configured: Type.Boolean({ description: 'A database has been chosen for this instance.' }),
    initialized: Type.Boolean({ description: 'The database is connected and migrated in this process.' }),
    dialect: Type.Union([Type.Literal('postgresql'), Type.Null()]),
    type: Type.Union([DatabaseTypeSchema, Type.Null()]),
    state: Type.Enum(['unconfigured', 'setting_up', 'ready', 'error']),
    phase: Type.Optional(Type.Enum(PHASE_NAMES, { description: 'The setup step running now (only while setting_up).' })),
    error: Type.Optional(Type.String({ description: 'The last setup or boot error, in plain words.' })),
  },
  { additionalProperties: false },
);

/** Answered from memory: operators and load balancers poll it. */
const statusRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/db/status',
    {
      config: { availableBeforeReady: true },
      schema: {
        tags: ['database'],
        summary: 'Setup state of this instance',
        response: { 200: DbStatusResponse },
      },
    },
    async () => app.setup.snapshot(),
  );
};

export default statusRoute;
