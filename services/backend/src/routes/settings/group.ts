import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { SettingsStore } from '../../global-settings/store.ts';
import { errorRef } from '../../schemas/common.ts';
import { adminSecurity, SettingsGroupParams, SettingsGroupSchema, SettingsGroupValuesBody } from '../../schemas/settings.ts';

/** Saves a form's worth of one group: all values are checked, then written in one transaction. */
const settingsGroupRoute: FastifyPluginAsyncTypebox<{ settings: SettingsStore }> = async (app, { settings }) => {
  app.put(
    '/api/settings/groups/:groupId',
    {
      onRequest: app.requireAdmin,
      bodyLimit: 256 * 1024,
      schema: {
        tags: ['settings'],
        summary: 'Change several settings of one group at once (all or none)',
        description:
          'Every value is checked first; one refused value refuses the lot with 400 `invalid_setting_value`, whose `fields` names each refused key. null goes back to the default; a secret is set or replaced with a string and cleared with null.',
        security: adminSecurity,
        params: SettingsGroupParams,
        body: SettingsGroupValuesBody,
        response: { 200: SettingsGroupSchema, '4xx': errorRef, '5xx': errorRef },
      },
    },
    async (request) => settings.setGroup(request.params.groupId, request.body.values),
  );
};

export default settingsGroupRoute;
