import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { SettingsStore } from '../../global-settings/store.ts';
import { errorRef } from '../../schemas/common.ts';
import { adminSecurity, SettingsGroupSchema } from '../../schemas/settings.ts';

const GroupsResponse = Type.Object({ groups: Type.Array(SettingsGroupSchema) }, { additionalProperties: false });

/** All groups with their settings, from memory. Secrets show only whether they are set. */
const listSettingsRoute: FastifyPluginAsyncTypebox<{ settings: SettingsStore }> = async (app, { settings }) => {
  app.get(
    '/api/settings',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags: ['settings'],
        summary: 'Global settings by group',
        security: adminSecurity,
        response: { 200: GroupsResponse, '4xx': errorRef, '5xx': errorRef },
      },
    },
    async () => ({ groups: settings.list() }),
  );
};

export default listSettingsRoute;
