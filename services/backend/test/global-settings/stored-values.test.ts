import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { globalSettings } from '../../src/db/schema/index.ts';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../../../../test/helpers/postgres.ts';
import { tempDir } from '../../../../test/helpers/temp.ts';

const SECRET = 'stored-values-encryption-secret-0123456789';
const PLANTED = 'planted-plaintext-password';

/** Values written straight into the database by someone who can write it but has not the key. */
describe.each(['pglite', 'postgresql'] as const)('bad stored values at boot on %s', (type) => {
  let folder: ReturnType<typeof tempDir>;
  let db: TestDatabase | null = null;
  let t: TestApp | undefined;
  const boot = () => startApp({ ...db?.env, ENCRYPTION_SECRET: SECRET }, { dataDir: folder.path });

  beforeEach(async () => {
    folder = tempDir();
    db = type === 'postgresql' ? await createTestDatabase() : null;
  });
  afterEach(async () => {
    await t?.close();
    await db?.drop();
    folder.remove();
  });

  it('are logged and replaced by the default: the instance still becomes ready, and nothing planted is used or re-encrypted', async () => {
    t = await boot();
    const admin = await setUpWithAdmin(t, type);
    await admin.call('PUT', '/api/settings/security.webhook_signing_secret', { value: 'webhook-secret-long-enough' });
    const database = t.app.activeDatabase.db;
    const row = async (key: string) => (await database.select().from(globalSettings).where(eq(globalSettings.key, key)))[0]!;
    const plant = (key: string, values: Partial<typeof globalSettings.$inferInsert>) => database.update(globalSettings).set(values).where(eq(globalSettings.key, key));

    let deep: unknown = [];
    for (let i = 0; i < 4_000; i++) deep = [deep];
    await plant('security.allowed_origins', { value: deep });
    await plant('mail.port', { value: 'not a number' });
    // A downgrade: the flag says plaintext, the value is one the attacker chose.
    await plant('mail.password', { isEncrypted: false, value: PLANTED });
    // Real ciphertext with its GCM tag cut to 4 bytes: GCM alone would still accept it.
    const ciphertext = String((await row('security.webhook_signing_secret')).value).split('.');
    ciphertext[4] = Buffer.from(ciphertext[4]!, 'base64url').subarray(0, 4).toString('base64url');
    await plant('security.webhook_signing_secret', { value: ciphertext.join('.') });
    // Compared as text: a deep-equality check would itself recurse 4,000 levels.
    const allRows = async () => JSON.stringify(await t!.app.activeDatabase.db.select().from(globalSettings).orderBy(globalSettings.key));
    const planted = await allRows();
    await t.app.close();

    t = await boot();
    expect(t.app.setupStatus.snapshot().state).toBe('ready');
    expect((await t.app.inject('/api/health/ready')).statusCode).toBe(200);
    expect(t.app.settings.get('security.allowed_origins')).toEqual([]);
    expect(t.app.settings.get('mail.port')).toBe(587);
    expect(t.app.settings.get('mail.password')).toBeNull();
    expect(t.app.settings.get('security.webhook_signing_secret')).toBeNull();

    const logs = t.logs.join('');
    expect(logs).toMatch(/Ignoring the stored value of security\.allowed_origins and using the default: .*at most 32 levels deep/);
    expect(logs).toMatch(/Ignoring the stored value of mail\.port and using the default: mail\.port must be a number/);
    expect(logs).toMatch(/Ignoring the stored value of mail\.password .*tampered with/);
    expect(logs).toMatch(/Ignoring the stored value of security\.webhook_signing_secret .*tampered with \(.*4-byte tag/);
    expect(logs).not.toContain(PLANTED);
    // Ignored, not rewritten: the planted plaintext was not encrypted and adopted.
    expect(await allRows()).toBe(planted);

    // The operator sets the secret again: stored as ciphertext, flagged as such, read after a restart.
    const again = await t.app.inject({ method: 'PUT', url: '/api/settings/mail.password', headers: { authorization: `Bearer ${admin.token}` }, payload: { value: 'the-real-password' } });
    expect(again.statusCode).toBe(200);
    await t.app.close();
    t = await boot();
    expect(t.app.settings.get('mail.password')).toBe('the-real-password');
    const [fixed] = await t.app.activeDatabase.db.select().from(globalSettings).where(eq(globalSettings.key, 'mail.password'));
    expect(fixed).toMatchObject({ isEncrypted: true, value: expect.stringMatching(/^gw1\./) });
  });
});
