import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DbStatusSchema } from '../../schemas/database.ts';
import type { SetupStatus } from '../../setup/setup-status.ts';

/** Answered from memory: operators and load balancers poll it. Only a caller sending a token costs a check. */
const statusRoute: FastifyPluginAsyncTypebox<{ status: SetupStatus }> = async (app, { status: setupStatus }) => {
  app.get(
    '/api/db/status',
    {
      config: { availableBeforeReady: true },
      schema: {
        tags: ['database'],
        summary: 'Setup state of this instance',
        description: 'The admin token (`Authorization: Bearer`), or the X-Setup-Token header before setup, adds `detail`: the full last error.',
        response: { 200: DbStatusSchema },
      },
    },
    async (request) => {
      const status = setupStatus.snapshot();
      // Only an error has a detail: otherwise no token is checked.
      return status.error === undefined ? status : setupStatus.snapshot(await app.maySeeDetail(request));
    },
  );
};

export default statusRoute;
