import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listMigrations } from '../../db/migrations.ts';
import { errorRef } from '../../schemas/common.ts';

const MigrationsResponse = Type.Object(
  {
    applied: Type.Array(Type.String(), { description: 'Tags of applied migrations, oldest first.' }),
    pending: Type.Array(Type.String(), { description: 'Tags of migrations in this release not yet applied.' }),
  },
  { additionalProperties: false },
);

const migrationsRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/db/migrations',
    {
      schema: {
        tags: ['database'],
        summary: 'Migrations applied to the database, and any pending',
        response: { 200: MigrationsResponse, '5xx': errorRef },
      },
    },
    async () => listMigrations(),
  );
};

export default migrationsRoute;
