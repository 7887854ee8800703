import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ActiveDatabase } from '../../db/active-database.ts';
import { DatabaseNotReadyError } from '../../errors.ts';
import { errorRef } from '../../schemas/common.ts';
import { DatabaseLocationSchema } from '../../schemas/database.ts';
import { adminSecurity } from '../../schemas/settings.ts';

/** Where the database is: for the admin page only, since hosts and folders are not for everyone (see /api/db/status). */
const locationRoute: FastifyPluginAsyncTypebox<{ active: ActiveDatabase }> = async (app, { active }) => {
  app.get(
    '/api/db/location',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags: ['database'],
        summary: 'The database type and where it is (admin)',
        security: adminSecurity,
        response: { 200: DatabaseLocationSchema, '4xx': errorRef, '5xx': errorRef },
      },
    },
    async () => {
      const driver = active.current;
      if (!driver) throw new DatabaseNotReadyError();
      return { type: driver.type, location: driver.target };
    },
  );
};

export default locationRoute;
