import { statSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { globalSettings, settingsEncryption } from '../../src/db/schema/index.ts';
import { SettingsCipher } from '../../src/global-settings/crypto.ts';
import { rotateEncryptionKey } from '../../src/global-settings/rotate.ts';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../../../../test/helpers/postgres.ts';
import { tempDir } from '../../../../test/helpers/temp.ts';

const SECRET_A = 'first-encryption-secret-0123456789';
const SECRET_B = 'other-encryption-secret-9876543210';

describe('SettingsCipher', () => {
  let cipher: SettingsCipher;
  const salt = SettingsCipher.newSalt();
  beforeAll(async () => {
    cipher = await SettingsCipher.fromSecret(SECRET_A, salt);
  });

  it('uses a fresh IV per value and round-trips', () => {
    const one = cipher.encrypt('"same"', 'mail.password');
    const two = cipher.encrypt('"same"', 'mail.password');
    expect(one).not.toBe(two);
    expect(cipher.decrypt(one, 'mail.password')).toBe('"same"');
  });

  it('derives the same key from the same secret and salt (replicas agree), another from another secret or salt', async () => {
    expect((await SettingsCipher.fromSecret(SECRET_A, salt)).keyId).toBe(cipher.keyId);
    expect((await SettingsCipher.fromSecret(SECRET_B, salt)).keyId).not.toBe(cipher.keyId);
    expect((await SettingsCipher.fromSecret(SECRET_A, SettingsCipher.newSalt())).keyId).not.toBe(cipher.keyId);
    // Instances set up before salts: the fixed salt, another key again.
    expect((await SettingsCipher.fromSecret(SECRET_A, null)).keyId).not.toBe(cipher.keyId);
    await expect(SettingsCipher.fromSecret(SECRET_A, 'short')).rejects.toThrow(/salt recorded in the database is malformed/);
  });

  it('refuses altered ciphertext and values of another key', async () => {
    const stored = cipher.encrypt('"x"', 'mail.password');
    const parts = stored.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => cipher.decrypt(parts.join('.'), 'mail.password')).toThrow(/failed authentication/);
    expect(() => (SettingsCipher.generate().cipher).decrypt(stored, 'mail.password')).toThrow(/encrypted with key/);
  });

  it('refuses a GCM tag cut short and an IV of another length, though GCM itself would take them', () => {
    const stored = cipher.encrypt('"x"', 'mail.password');
    const [format, keyId, iv, ciphertext, tag] = stored.split('.') as [string, string, string, string, string];
    const shortTag = Buffer.from(tag, 'base64url').subarray(0, 4).toString('base64url');
    expect(() => cipher.decrypt([format, keyId, iv, ciphertext, shortTag].join('.'), 'mail.password')).toThrow(/4-byte tag; only 12 and 16 are accepted/);
    const longIv = Buffer.concat([Buffer.from(iv, 'base64url'), Buffer.alloc(4)]).toString('base64url');
    expect(() => cipher.decrypt([format, keyId, longIv, ciphertext, tag].join('.'), 'mail.password')).toThrow(/16-byte IV/);
    expect(() => cipher.decrypt(`${stored}.extra`, 'mail.password')).toThrow(/not in a known encrypted format/);
    expect(() => cipher.decrypt(stored.replace(ciphertext, `${ciphertext}!`), 'mail.password')).toThrow(/not in a known encrypted format/);
  });
});

describe.each(['pglite', 'postgresql'] as const)('the encryption key on %s', (type) => {
  let folder: ReturnType<typeof tempDir>;
  let db: TestDatabase | null = null;
  let t: TestApp | undefined;
  const boot = (env: Record<string, string> = {}) => startApp({ ...db?.env, ...env }, { dataDir: folder.path });

  beforeEach(async () => {
    folder = tempDir();
    db = type === 'postgresql' ? await createTestDatabase() : null;
  });
  afterEach(async () => {
    await t?.close();
    await db?.drop();
    folder.remove();
  });

  it('a wrong ENCRYPTION_SECRET stops boot with a clear message; the right one reads the secret', async () => {
    t = await boot({ ENCRYPTION_SECRET: SECRET_A });
    const admin = await setUpWithAdmin(t, type);
    await admin.call('PUT', '/api/settings/mail.password', { value: 'pw-123' });
    await t.app.close();

    t = await boot({ ENCRYPTION_SECRET: SECRET_B });
    const status = t.app.setupStatus.snapshot(true);
    expect(status.state).toBe('error');
    expect(status.detail).toMatch(/encryption key does not match this database.*Set ENCRYPTION_SECRET to the secret this database was set up with/);
    expect(status.error).toBe('The settings encryption key is missing or does not match this database; the server log has the details.');
    expect(JSON.stringify(status)).not.toContain(SECRET_A);
    expect(JSON.stringify(status)).not.toContain(SECRET_B);
    expect((await t.app.inject('/api/health/ready')).statusCode).toBe(503);
    await t.app.close();

    t = await boot({ ENCRYPTION_SECRET: SECRET_A });
    expect(t.app.setupStatus.snapshot().state).toBe('ready');
    expect(t.app.settings.get('mail.password')).toBe('pw-123');
  });

  it('without ENCRYPTION_SECRET, setup makes a 0600 key file and warns; without the file boot refuses', async () => {
    t = await boot();
    await setUpWithAdmin(t, type);
    const keyFile = join(folder.path, 'encryption.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(t.logs.join('')).toMatch(/Replicas must share one key: set ENCRYPTION_SECRET/);
    await t.app.close();

    rmSync(keyFile);
    t = await boot();
    expect(t.app.setupStatus.snapshot(true)).toMatchObject({ state: 'error', detail: expect.stringMatching(/there is no key: set ENCRYPTION_SECRET .* or restore/) });
    expect(existsSync(keyFile)).toBe(false);
  });

  it('rotation re-encrypts every secret in one transaction, or none', async () => {
    t = await boot({ ENCRYPTION_SECRET: SECRET_A });
    const admin = await setUpWithAdmin(t, type);
    await admin.call('PUT', '/api/settings/mail.password', { value: 'smtp-pw' });
    await admin.call('PUT', '/api/settings/security.webhook_signing_secret', { value: 'webhook-secret-long-enough' });
    const database = t.app.activeDatabase.db;
    const storedSecrets = () => database.select({ key: globalSettings.key, value: globalSettings.value }).from(globalSettings).where(eq(globalSettings.isEncrypted, true)).orderBy(globalSettings.key);
    const [recorded] = await database.select().from(settingsEncryption);
    const [a, b] = [await SettingsCipher.fromSecret(SECRET_A, recorded!.kdfSalt), await SettingsCipher.fromSecret(SECRET_B, SettingsCipher.newSalt())];

    // One value that cannot be decrypted: the rotation must fail and change nothing.
    const original = await storedSecrets();
    await database.update(globalSettings).set({ value: b.encrypt('"planted"', 'mail.password') }).where(eq(globalSettings.key, 'mail.password'));
    const planted = await storedSecrets();
    await expect(rotateEncryptionKey(database, a, b)).rejects.toThrow(/encrypted with key/);
    expect(await storedSecrets()).toEqual(planted);

    await database.update(globalSettings).set({ value: original[0]!.value }).where(eq(globalSettings.key, 'mail.password'));
    expect(await rotateEncryptionKey(database, a, b)).toBe(2);
    const rotated = await storedSecrets();
    expect(JSON.parse(b.decrypt(String(rotated[0]!.value), 'mail.password'))).toBe('smtp-pw');
    await t.app.close();

    t = await boot({ ENCRYPTION_SECRET: SECRET_B });
    expect(t.app.settings.get('security.webhook_signing_secret')).toBe('webhook-secret-long-enough');
  });

  it('derives the key from ENCRYPTION_SECRET with a random salt of this installation, recorded for the replicas', async () => {
    t = await boot({ ENCRYPTION_SECRET: SECRET_A });
    await setUpWithAdmin(t, type);
    const [recorded] = await t.app.activeDatabase.db.select().from(settingsEncryption);
    expect(recorded!.kdfSalt).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(recorded!.keyId).toBe((await SettingsCipher.fromSecret(SECRET_A, recorded!.kdfSalt)).keyId);
    expect(recorded!.keyId).not.toBe((await SettingsCipher.fromSecret(SECRET_A, null)).keyId);
    expect(t.logs.join('')).not.toMatch(/fixed salt/);
  });

  it('an instance keyed before salts (fixed salt) keeps reading its secrets and is told how to move', async () => {
    t = await boot({ ENCRYPTION_SECRET: SECRET_A });
    const admin = await setUpWithAdmin(t, type);
    await admin.call('PUT', '/api/settings/mail.password', { value: 'older-instance-pw' });
    // Back to the state an older version left: secrets under the fixed-salt key, no salt recorded.
    const database = t.app.activeDatabase.db;
    const [recorded] = await database.select().from(settingsEncryption);
    const legacy = await SettingsCipher.fromSecret(SECRET_A, null);
    await rotateEncryptionKey(database, await SettingsCipher.fromSecret(SECRET_A, recorded!.kdfSalt), legacy);
    await t.app.close();

    t = await boot({ ENCRYPTION_SECRET: SECRET_A });
    expect(t.app.setupStatus.snapshot().state).toBe('ready');
    expect(t.app.settings.get('mail.password')).toBe('older-instance-pw');
    expect(t.logs.join('')).toMatch(/fixed salt of earlier versions.*NEW_ENCRYPTION_SECRET=.*npm run settings:rotate-key/);
    expect(await t.app.activeDatabase.db.select().from(settingsEncryption)).toEqual([expect.objectContaining({ keyId: legacy.keyId, kdfSalt: null })]);
  });
});
