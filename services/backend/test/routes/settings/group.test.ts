import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globalSettings } from '../../../src/db/schema/index.ts';
import { setUpWithAdmin } from '../../../../../test/helpers/admin.ts';
import { startApp, TEST_SETUP_TOKEN, type TestApp } from '../../../../../test/helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../../../../../test/helpers/postgres.ts';

const SMTP_PASSWORD = 'smtp-group-Pa55word-never-shown';

describe.each(['pglite', 'postgresql'] as const)('PUT /api/settings/groups/:groupId on %s', (type) => {
  let db: TestDatabase | null = null;
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof setUpWithAdmin>>;

  beforeAll(async () => {
    db = type === 'postgresql' ? await createTestDatabase() : null;
    t = await startApp({ ...db?.env, SETUP_TOKEN: TEST_SETUP_TOKEN });
    admin = await setUpWithAdmin(t, type);
  });
  afterAll(async () => {
    await t.close();
    await db?.drop();
  });

  const storedValues = async (keys: string[]) => {
    const rows = await t.app.activeDatabase.db.select().from(globalSettings).where(inArray(globalSettings.key, keys));
    return Object.fromEntries(rows.map((row) => [row.key, row.value]));
  };

  it('lists what a form needs: the setup flag, type, rules, default, and value only for non-secrets', async () => {
    const groups = (await admin.call('GET', '/api/settings')).json().groups as Array<{ id: string; settings: Array<Record<string, unknown>> }>;
    const all = groups.flatMap((group) => group.settings);
    const byKey = (key: string) => all.find((setting) => setting.key === key)!;
    expect(all.filter((setting) => setting.setup).map((setting) => setting.key).sort()).toEqual([
      'general.base_url', 'general.instance_name',
      'mail.enabled', 'mail.from_address', 'mail.host', 'mail.password', 'mail.port', 'mail.security', 'mail.username',
    ]);
    expect(byKey('security.session_timeout_minutes')).toMatchObject({ setup: false, type: 'number', required: true, default: 60, value: 60, is_set: false });
    expect(byKey('mail.security')).toMatchObject({ setup: true, validation: { enum: ['starttls', 'tls', 'none'] } });
    expect(byKey('mail.password')).toMatchObject({ setup: true, encrypted: true, is_set: false });
    expect(byKey('mail.password')).not.toHaveProperty('value');
  });

  it('needs the admin token', async () => {
    const response = await t.app.inject({ method: 'PUT', url: '/api/settings/groups/mail', payload: { values: { 'mail.port': 25 } } });
    expect(response.statusCode).toBe(401);
    expect(t.app.settings.get('mail.port')).toBe(587);
  });

  it('saves every value of the group together, and null goes back to the default', async () => {
    const saved = await admin.call('PUT', '/api/settings/groups/mail', {
      values: { 'mail.host': 'smtp.example.com', 'mail.port': 2525, 'mail.enabled': true, 'mail.security': 'tls' },
    });
    expect(saved.statusCode).toBe(200);
    const settings = saved.json().settings as Array<Record<string, unknown>>;
    expect(saved.json().id).toBe('mail');
    expect(settings.find((setting) => setting.key === 'mail.port')).toMatchObject({ value: 2525, is_set: true });
    expect(settings.find((setting) => setting.key === 'mail.username')).toMatchObject({ value: null, is_set: false });
    expect(await storedValues(['mail.host', 'mail.port', 'mail.enabled', 'mail.security'])).toEqual({
      'mail.host': 'smtp.example.com', 'mail.port': 2525, 'mail.enabled': true, 'mail.security': 'tls',
    });

    const reset = await admin.call('PUT', '/api/settings/groups/mail', { values: { 'mail.port': null, 'mail.security': null, 'mail.enabled': null, 'mail.host': null } });
    expect(reset.statusCode).toBe(200);
    expect(t.app.settings.get('mail.port')).toBe(587);
    expect(t.app.settings.get('mail.security')).toBe('starttls');
    expect(await storedValues(['mail.host', 'mail.port', 'mail.enabled', 'mail.security'])).toEqual({
      'mail.host': null, 'mail.port': null, 'mail.enabled': null, 'mail.security': null,
    });
  });

  it('refuses the whole group when one value is invalid, naming each refused field, and writes nothing', async () => {
    const before = await storedValues(['mail.host', 'mail.port', 'mail.from_address']);
    const response = await admin.call('PUT', '/api/settings/groups/mail', {
      values: { 'mail.host': 'smtp.changed.example', 'mail.port': 70000, 'mail.from_address': 'not an address', 'general.instance_name': 'x' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: 'invalid_setting_value',
      message: expect.stringMatching(/^Nothing was saved: 3 settings are not valid \(mail\.port, mail\.from_address, general\.instance_name\)\.$/),
      fields: {
        'mail.port': 'mail.port must be at most 65535.',
        'mail.from_address': 'mail.from_address must be an e-mail address, e.g. groundwork@example.com.',
        'general.instance_name': 'general.instance_name is not a setting of the group mail.',
      },
    });
    expect(t.app.settings.get('mail.host')).toBeNull();
    expect(await storedValues(['mail.host', 'mail.port', 'mail.from_address'])).toEqual(before);

    const one = await admin.call('PUT', '/api/settings/groups/general', { values: { 'general.base_url': 'ftp://x' } });
    expect(one.json()).toEqual({
      error: 'invalid_setting_value',
      message: 'Nothing was saved: general.base_url must be a web address starting with http:// or https://, e.g. https://groundwork.example.com.',
      fields: { 'general.base_url': expect.stringMatching(/must be a web address starting with http/) },
    });
  });

  it('sets, replaces and clears a secret without ever returning it', async () => {
    for (const value of [SMTP_PASSWORD, `${SMTP_PASSWORD}-2`]) {
      const response = await admin.call('PUT', '/api/settings/groups/mail', { values: { 'mail.password': value } });
      expect(response.statusCode).toBe(200);
      expect(response.body).not.toContain(SMTP_PASSWORD);
      expect(response.json().settings.find((setting: { key: string }) => setting.key === 'mail.password')).toEqual(
        expect.objectContaining({ is_set: true, encrypted: true }),
      );
      expect(t.app.settings.get('mail.password')).toBe(value);
      const [row] = await t.app.activeDatabase.db.select().from(globalSettings).where(eq(globalSettings.key, 'mail.password'));
      expect(String(row?.value)).not.toContain(SMTP_PASSWORD);
    }
    expect((await admin.call('GET', '/api/settings')).body).not.toContain(SMTP_PASSWORD);
    const cleared = await admin.call('PUT', '/api/settings/groups/mail', { values: { 'mail.password': null } });
    expect(cleared.json().settings.find((setting: { key: string }) => setting.key === 'mail.password')).toMatchObject({ is_set: false });
    expect(t.app.settings.get('mail.password')).toBeNull();
    expect(t.logs.join('')).not.toContain(SMTP_PASSWORD);
  });

  it('GET /api/db/location tells the admin, and only the admin, the database type and where it is', async () => {
    expect((await t.app.inject('/api/db/location')).statusCode).toBe(401);
    const response = await admin.call('GET', '/api/db/location');
    expect(response.statusCode).toBe(200);
    const expected = type === 'postgresql' ? `${db!.env.POSTGRES_HOST}:${db!.env.POSTGRES_PORT}/${db!.env.POSTGRES_DATABASE}` : t.dataDir;
    expect(response.json()).toEqual({ type, location: expect.stringContaining(expected) });
    if (db) expect(response.body).not.toContain(db.env.POSTGRES_PASSWORD);
  });

  it('answers 404 for an unknown group and 400 for a malformed body', async () => {
    expect((await admin.call('PUT', '/api/settings/groups/nothing', { values: {} })).json()).toEqual({
      error: 'unknown_settings_group', message: expect.stringContaining('"nothing"'),
    });
    expect((await admin.call('PUT', '/api/settings/groups/mail', { 'mail.port': 25 })).json().error).toBe('invalid_body');
    expect((await admin.call('PUT', '/api/settings/groups/mail', { values: [] })).json().error).toBe('invalid_body');
    expect((await admin.call('PUT', '/api/settings/groups/Not%20A%20Group', { values: {} })).json().error).toBe('invalid_params');
  });
});
