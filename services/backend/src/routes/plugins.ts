import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { PluginRegistry } from '../plugins/registry.ts';
import { errorRef } from '../schemas/common.ts';
import { PluginViewSchema } from '../schemas/plugins.ts';
import { adminSecurity } from '../schemas/settings.ts';

const PluginsResponse = Type.Object({ plugins: Type.Array(PluginViewSchema) }, { additionalProperties: false });

const pluginsRoute: FastifyPluginAsyncTypebox<{ plugins: PluginRegistry }> = async (app, { plugins }) => {
  app.get(
    '/api/plugins',
    {
      onRequest: app.requireAdmin,
      schema: { tags: ['plugins'], summary: 'Plugins, their status and tables', security: adminSecurity, response: { 200: PluginsResponse, '4xx': errorRef, '5xx': errorRef } },
    },
    async () => ({ plugins: plugins.list() }),
  );
};

export default pluginsRoute;
