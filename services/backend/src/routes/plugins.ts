import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorRef } from '../schemas/common.ts';
import { adminSecurity } from '../schemas/settings.ts';

const PluginsResponse = Type.Object(
  {
    plugins: Type.Array(
      Type.Object(
        {
          id: Type.String(),
          name: Type.Union([Type.String(), Type.Null()]),
          version: Type.Union([Type.String(), Type.Null()]),
          status: Type.Enum(['pending', 'active', 'failed', 'disabled']),
          tables: Type.Array(Type.String(), { description: 'Prefixed table names.' }),
          error: Type.Union([Type.String(), Type.Null()]),
          ddl_statements: Type.Integer({ description: 'DDL statements the last schema sync ran (0: nothing changed).' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const pluginsRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/plugins',
    {
      preHandler: app.requireAdmin,
      schema: { tags: ['plugins'], summary: 'Plugins, their status and tables', security: adminSecurity, response: { 200: PluginsResponse, '4xx': errorRef, '5xx': errorRef } },
    },
    async () => ({ plugins: app.plugins.list() }),
  );
};

export default pluginsRoute;
