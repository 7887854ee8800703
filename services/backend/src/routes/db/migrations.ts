import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ActiveDatabase } from '../../db/active-database.ts';
import { listMigrations } from '../../db/migrations.ts';
import { errorRef } from '../../schemas/common.ts';
import { MigrationsListSchema } from '../../schemas/database.ts';

const migrationsRoute: FastifyPluginAsyncTypebox<{ active: ActiveDatabase }> = async (app, { active }) => {
  app.get(
    '/api/db/migrations',
    {
      schema: {
        tags: ['database'],
        summary: 'Migrations applied to the database, and any pending',
        response: { 200: MigrationsListSchema, '5xx': errorRef },
      },
    },
    async () => listMigrations(active.db),
  );
};

export default migrationsRoute;
