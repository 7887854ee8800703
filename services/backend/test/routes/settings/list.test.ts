import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setUpWithAdmin } from '../../../../../test/helpers/admin.ts';
import { startApp, type TestApp } from '../../../../../test/helpers/app.ts';
import { pluginSettingsGroups } from '../../../src/plugins/registry.ts';

describe('GET /api/settings', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startApp();
  });
  afterEach(() => t.close());

  it('lists the groups in order with their settings; secrets only say whether they are set', async () => {
    const admin = await setUpWithAdmin(t, 'pglite');
    expect((await t.app.inject('/api/settings')).statusCode).toBe(401);

    await admin.call('PUT', '/api/settings/security.webhook_signing_secret', { value: 'a-long-enough-webhook-secret' });
    const { groups } = (await admin.call('GET', '/api/settings')).json();
    // The core groups first, then one per plugin that has settings.
    const pluginGroups = pluginSettingsGroups(t.app.plugins.plugins).map((group) => group.id);
    expect(groups.map((group: { id: string }) => group.id)).toEqual(['general', 'mail', 'security', ...pluginGroups]);
    const settings = groups.flatMap((group: { settings: unknown[] }) => group.settings);
    for (const setting of settings.filter((s: { encrypted: boolean }) => s.encrypted)) {
      expect(setting).not.toHaveProperty('value');
      expect(setting).not.toHaveProperty('default');
    }
    expect(settings.find((s: { key: string }) => s.key === 'security.webhook_signing_secret')).toMatchObject({ is_set: true });
    expect(settings.find((s: { key: string }) => s.key === 'mail.password')).toMatchObject({ is_set: false });
    expect(settings.find((s: { key: string }) => s.key === 'general.instance_name')).toMatchObject({ value: 'Groundwork', type: 'string', required: true });
  });
});
