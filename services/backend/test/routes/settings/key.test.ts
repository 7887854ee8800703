import { eq } from 'drizzle-orm';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globalSettings } from '../../../src/db/schema/index.ts';
import { readKeyFile } from '../../../src/global-settings/crypto.ts';
import { setUpWithAdmin } from '../../../../../test/helpers/admin.ts';
import { startApp, TEST_SETUP_TOKEN, type TestApp } from '../../../../../test/helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../../../../../test/helpers/postgres.ts';

const SMTP_PASSWORD = 'smtp-Pa55word-that-must-never-leak';

describe.each(['pglite', 'postgresql'] as const)('GET and PUT /api/settings/:key on %s', (type) => {
  let db: TestDatabase | null = null;
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof setUpWithAdmin>>;

  // One setup per driver (a fresh PGlite costs seconds); each test leaves the values as it found them.
  beforeAll(async () => {
    db = type === 'postgresql' ? await createTestDatabase() : null;
    t = await startApp({ ...db?.env, SETUP_TOKEN: TEST_SETUP_TOKEN });
    admin = await setUpWithAdmin(t, type);
  });
  afterAll(async () => {
    await t.close();
    await db?.drop();
  });

  it('needs the admin token', async () => {
    const missing = await t.app.inject('/api/settings/mail.port');
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toEqual({ error: 'admin_token_required', message: expect.stringContaining('Authorization: Bearer') });
    for (const authorization of ['Bearer gwa_wrong', 'Basic abc', `Bearer ${TEST_SETUP_TOKEN}`]) {
      const wrong = await t.app.inject({ method: 'PUT', url: '/api/settings/mail.port', headers: { authorization }, payload: { value: 25 } });
      expect(wrong.statusCode).toBe(401);
    }
    expect(t.app.settings.get('mail.port')).toBe(587);
  });

  it('checks the admin token before the body, so callers without it learn nothing about schemas', async () => {
    const invalidBodies = [{ wrong: 1 }, {}, '{"value": ', 'x'.repeat(70 * 1024)];
    for (const payload of invalidBodies) {
      const response = await t.app.inject({ method: 'PUT', url: '/api/settings/mail.port', headers: { 'content-type': 'application/json' }, payload });
      expect(response.statusCode).toBe(401);
      expect(response.json().error).toBe('admin_token_required');
    }
    const wrongType = await t.app.inject({ method: 'PUT', url: '/api/settings/mail.port', headers: { 'content-type': 'text/xml', authorization: 'Bearer gwa_wrong' }, payload: '<value/>' });
    expect(wrongType.statusCode).toBe(401);
    expect(wrongType.json().error).toBe('invalid_admin_token');
  });

  it('reads defaults, stores a typed value and goes back to the default with null', async () => {
    expect((await admin.call('GET', '/api/settings/mail.port')).json()).toMatchObject({ key: 'mail.port', type: 'number', value: 587, default: 587, is_set: false });

    const changed = await admin.call('PUT', '/api/settings/mail.port', { value: 2525 });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ key: 'mail.port', value: 2525, is_set: true });
    const port: number = t.app.settings.get('mail.port');
    expect(port).toBe(2525);
    const [row] = await t.app.activeDatabase.db.select().from(globalSettings).where(eq(globalSettings.key, 'mail.port'));
    expect(row?.value).toBe(2525);

    expect((await admin.call('PUT', '/api/settings/mail.port', { value: null })).json()).toMatchObject({ value: 587, is_set: false });
    expect(t.app.settings.get('mail.port')).toBe(587);
  });

  it.each([
    ['mail.port', 'twenty-five', /mail\.port must be a number/],
    ['mail.port', 70000, /mail\.port must be at most 65535/],
    ['mail.port', 25.5, /mail\.port must be a whole number/],
    ['general.instance_name', '', /general\.instance_name is required and cannot be empty/],
    ['mail.security', 'ssl3', /mail\.security must be one of: starttls, tls, none/],
    ['general.base_url', 'ftp://x', /general\.base_url must be a web address starting with http:\/\/ or https:\/\//],
    ['general.maintenance_mode', 'yes', /general\.maintenance_mode must be true or false/],
    ['security.webhook_signing_secret', 'short', /security\.webhook_signing_secret must be at least 16 characters/],
  ])('refuses %s = %j with 400 naming the setting and the rule', async (key, value, message) => {
    const response = await admin.call('PUT', `/api/settings/${key}`, { value });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'invalid_setting_value', message: expect.stringMatching(message) });
  });

  it('answers 404 for an unknown key and 400 for a malformed body or key', async () => {
    expect((await admin.call('GET', '/api/settings/mail.nothing')).json()).toEqual({ error: 'unknown_setting', message: expect.stringContaining('mail.nothing') });
    expect((await admin.call('PUT', '/api/settings/mail.nothing', { value: 1 })).statusCode).toBe(404);
    expect((await admin.call('PUT', '/api/settings/mail.port', { port: 1 })).json().error).toBe('invalid_body');
    expect((await admin.call('PUT', '/api/settings/mail.port', { value: 1, extra: true })).json().error).toBe('invalid_body');
    const malformedKey = await admin.call('GET', '/api/settings/NOT%20A%20KEY');
    expect(malformedKey.statusCode).toBe(400);
    expect(malformedKey.json()).toEqual({ error: 'invalid_params', message: expect.stringContaining('"key" must match pattern') });
  });

  it('stores a secret only as ciphertext that decrypts to what was written, and never shows it', async () => {
    const response = await admin.call('PUT', '/api/settings/mail.password', { value: SMTP_PASSWORD });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ key: 'mail.password', encrypted: true, is_set: true });
    expect(response.json()).not.toHaveProperty('value');
    expect(response.json()).not.toHaveProperty('default');

    const [row] = await t.app.activeDatabase.db.select().from(globalSettings).where(eq(globalSettings.key, 'mail.password'));
    expect(row?.isEncrypted).toBe(true);
    const stored = String(row?.value);
    expect(stored).toMatch(/^gw1\.[0-9a-f]{16}\./);
    expect(stored).not.toContain(SMTP_PASSWORD);
    const cipher = readKeyFile(join(t.dataDir, 'encryption.key'))!;
    expect(JSON.parse(cipher.decrypt(stored, 'mail.password'))).toBe(SMTP_PASSWORD);
    // Bound to its setting: the same ciphertext does not open as another setting.
    expect(() => cipher.decrypt(stored, 'security.webhook_signing_secret')).toThrow(/failed authentication/);
    expect(t.app.settings.get('mail.password')).toBe(SMTP_PASSWORD);

    // Nowhere in answers or logs: not the secret, not the admin token.
    const answers = [
      (await admin.call('GET', '/api/settings')).body,
      (await admin.call('GET', '/api/settings/mail.password')).body,
      (await t.app.inject('/api/db/status')).body,
    ].join('\n');
    expect(answers).not.toContain(SMTP_PASSWORD);
    const logs = t.logs.join('');
    expect(logs).not.toContain(SMTP_PASSWORD);
    expect(logs).not.toContain(admin.token);
    expect(logs).not.toContain(TEST_SETUP_TOKEN);
    expect(logs).not.toContain(readFileSync(join(t.dataDir, 'encryption.key'), 'utf8').trim());
  });
});

describe('/api/settings before setup', () => {
  it('answers 503 database_not_ready', async () => {
    const t = await startApp();
    try {
      const response = await t.app.inject({ method: 'GET', url: '/api/settings/mail.port', headers: { authorization: 'Bearer x' } });
      expect(response.statusCode).toBe(503);
      expect(response.json().error).toBe('database_not_ready');
    } finally {
      await t.close();
    }
  });
});
