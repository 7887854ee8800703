import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { SetupPhasesSchema } from '../../schemas/database.ts';
import { SETUP_PHASES } from '../../setup/phases.ts';

/** The phases of setup, in order, with their labels: the wizard shows this list, it keeps none of its own. */
const setupPhasesRoute: FastifyPluginAsyncTypebox = async (app) => {
  const phases = SETUP_PHASES.map(({ name, label }) => ({ name, label }));
  app.get(
    '/api/db/setup/phases',
    {
      config: { availableBeforeReady: true },
      schema: {
        tags: ['database'],
        summary: 'The phases of setup in the order they run, with the words the wizard shows for each',
        response: { 200: SetupPhasesSchema },
      },
    },
    async () => ({ phases }),
  );
};

export default setupPhasesRoute;
