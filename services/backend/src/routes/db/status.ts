import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DbStatusSchema } from '../../schemas/database.ts';

/** Answered from memory: operators and load balancers poll it. */
const statusRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/db/status',
    {
      config: { availableBeforeReady: true },
      schema: {
        tags: ['database'],
        summary: 'Setup state of this instance',
        response: { 200: DbStatusSchema },
      },
    },
    async () => app.setup.snapshot(),
  );
};

export default statusRoute;
