import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { SettingsStore } from '../../global-settings/store.ts';
import { errorRef } from '../../schemas/common.ts';
import { adminSecurity, SettingKeyParams, settingRef } from '../../schemas/settings.ts';

const PutBody = Type.Object(
  { value: Type.Unknown({ description: 'The new value, of the setting\'s type; null goes back to the default.' }) },
  { additionalProperties: false, required: ['value'] },
);

const settingByKeyRoutes: FastifyPluginAsyncTypebox<{ settings: SettingsStore }> = async (app, { settings }) => {
  app.get(
    '/api/settings/:key',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags: ['settings'],
        summary: 'One global setting',
        security: adminSecurity,
        params: SettingKeyParams,
        response: { 200: settingRef, '4xx': errorRef, '5xx': errorRef },
      },
    },
    async (request) => settings.view(request.params.key),
  );

  app.put(
    '/api/settings/:key',
    {
      onRequest: app.requireAdmin,
      bodyLimit: 64 * 1024,
      schema: {
        tags: ['settings'],
        summary: 'Change a global setting (encrypted ones are stored encrypted)',
        security: adminSecurity,
        params: SettingKeyParams,
        body: PutBody,
        response: { 200: settingRef, '4xx': errorRef, '5xx': errorRef },
      },
    },
    async (request) => settings.set(request.params.key, request.body.value),
  );
};

export default settingByKeyRoutes;
