import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { pluginsFolder } from '../../../../test/helpers/plugins.ts';
import { createTestDatabase, type TestDatabase } from '../../../../test/helpers/postgres.ts';
import { tempDir } from '../../../../test/helpers/temp.ts';

/** A plugin "prefs" whose settings' definitions are given as source: one version of the code. */
const prefsPlugin = (settings: string) => `
export default definePlugin({ id: 'prefs', name: 'Prefs', version: '1', tables: () => ({}), settings: { ${settings} } });`;

describe('a setting whose definition changed type or encryption between two boots', () => {
  let db: TestDatabase;
  let data: ReturnType<typeof tempDir>;
  let t: TestApp | undefined;
  const folders: { remove(): void }[] = [];
  const boot = (pluginsDir: string) =>
    startApp({ ...db.env, PLUGINS_DIR: pluginsDir, ENCRYPTION_SECRET: 'definition-change-test-secret-0123456789' }, { dataDir: data.path });
  const row = async (key: string) =>
    (await db.query<{ type: string; is_encrypted: boolean; value: unknown }>('select type, is_encrypted, value from global_settings where key = $1', [key]))[0];

  beforeEach(async () => {
    db = await createTestDatabase();
    data = tempDir();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await db.drop();
    data.remove();
    folders.splice(0).forEach((folder) => folder.remove());
  });

  it('stores a value that still fits the new way (now plain, now a number), resets one that does not, and never takes plain text over as a secret', async () => {
    const before = pluginsFolder({
      prefs: prefsPlugin(`
        api_key: setting.string({ name: 'API key', description: 'x', default: null }),
        legacy_secret: setting.string({ name: 'Legacy', description: 'x', default: null, encrypted: true }),
        page_size: setting.string({ name: 'Page size', description: 'x', default: '20' }),`),
    });
    const after = pluginsFolder({
      prefs: prefsPlugin(`
        api_key: setting.string({ name: 'API key', description: 'x', default: null, encrypted: true }),
        legacy_secret: setting.string({ name: 'Legacy', description: 'x', default: null }),
        page_size: setting.number({ name: 'Page size', description: 'x', default: 20 }),`),
    });
    folders.push(before, after);

    t = await boot(before.path);
    const admin = await setUpWithAdmin(t, 'postgresql');
    for (const [key, value] of [['prefs.api_key', 'key-stored-in-plain'], ['prefs.legacy_secret', 'was-a-secret'], ['prefs.page_size', 'fifty']]) {
      expect((await admin.call('PUT', `/api/settings/${key}`, { value })).statusCode).toBe(200);
    }
    expect(await row('prefs.api_key')).toEqual({ type: 'string', is_encrypted: false, value: 'key-stored-in-plain' });
    expect(String((await row('prefs.legacy_secret'))!.value)).toMatch(/^gw1\./);
    await t.close();

    t = await boot(after.path);
    expect(t.app.setupStatus.snapshot().state).toBe('ready');

    // Now a secret: a plain value in the database looks exactly like one planted by someone with
    // write access to it, so it is not taken over (issue 12, item 9): the default is used, the log
    // says why, and the operator sets it again, which stores ciphertext.
    expect(t.app.settings.value('prefs.api_key')).toBeNull();
    expect(t.logs.join('\n')).toMatch(/Ignoring the stored value of prefs\.api_key .* Set it again/);
    expect(t.logs.join('\n')).not.toContain('key-stored-in-plain');
    const again = await t.app.inject({ method: 'PUT', url: '/api/settings/prefs.api_key', headers: { authorization: `Bearer ${admin.token}` }, payload: { value: 'key-set-again' } });
    expect(again.statusCode).toBe(200);
    const apiKey = await row('prefs.api_key');
    expect(apiKey).toMatchObject({ type: 'string', is_encrypted: true });
    expect(String(apiKey!.value)).toMatch(/^gw1\./);
    expect(t.app.settings.value('prefs.api_key')).toBe('key-set-again');

    // No longer a secret: stored in plain.
    expect(await row('prefs.legacy_secret')).toEqual({ type: 'string', is_encrypted: false, value: 'was-a-secret' });
    expect(t.app.settings.value('prefs.legacy_secret')).toBe('was-a-secret');

    // Now a number: "fifty" does not fit, so it goes back to the default and the log says why.
    expect(await row('prefs.page_size')).toEqual({ type: 'number', is_encrypted: false, value: null });
    expect(t.app.settings.value('prefs.page_size')).toBe(20);
    expect(t.logs.join('\n')).toMatch(/prefs\.page_size changed its definition; its stored value no longer fits .* reset to the default/);
  });
});
