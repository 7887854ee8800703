import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listMigrations } from '../../db/migrations.ts';
import { errorRef } from '../../schemas/common.ts';
import { MigrationsListSchema } from '../../schemas/database.ts';

const migrationsRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/db/migrations',
    {
      schema: {
        tags: ['database'],
        summary: 'Migrations applied to the database, and any pending',
        response: { 200: MigrationsListSchema, '5xx': errorRef },
      },
    },
    async () => listMigrations(),
  );
};

export default migrationsRoute;
