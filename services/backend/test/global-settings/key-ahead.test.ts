import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { SettingsCipher } from '../../src/global-settings/crypto.ts';
import { deriveKeyAtProcessStart, takeKeyDerivedAtStart } from '../../src/global-settings/early-key.ts';
import { EncryptionKeys } from '../../src/global-settings/keys.ts';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp } from '../../../../test/helpers/app.ts';
import { createTestDatabase } from '../../../../test/helpers/postgres.ts';
import { tempDir } from '../../../../test/helpers/temp.ts';

const SECRET = 'ahead-encryption-secret-0123456789';

describe('the settings key of a new installation, derived ahead of setup', () => {
  it('is used for a database with no key recorded, with the salt it was derived with; a recorded salt gets its own key', async () => {
    const folder = tempDir();
    try {
      const keys = new EncryptionKeys(loadConfig({ PERSISTENT_DATA_DIR: folder.path, ENCRYPTION_SECRET: SECRET }), pino({ level: 'silent' }));
      keys.deriveAheadForNewInstallation();
      // A database set up elsewhere names its own salt: the key ahead (another salt) is not used for it.
      const recordedSalt = SettingsCipher.newSalt();
      const expected = await SettingsCipher.fromSecret(SECRET, recordedSalt);
      const forRecorded = await keys.resolve({ keyId: expected.keyId, kdfSalt: recordedSalt });
      expect(forRecorded).toMatchObject({ kdfSalt: recordedSalt, keyId: expected.keyId });

      const fresh = new EncryptionKeys(loadConfig({ PERSISTENT_DATA_DIR: folder.path, ENCRYPTION_SECRET: SECRET }), pino({ level: 'silent' }));
      fresh.deriveAheadForNewInstallation();
      const forNew = await fresh.resolve(null);
      expect(forNew.kdfSalt).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(forNew.kdfSalt).not.toBe(recordedSalt);
      // The key is the one that salt gives: what the database records is what every replica derives.
      expect(forNew.keyId).toBe((await SettingsCipher.fromSecret(SECRET, forNew.kdfSalt)).keyId);
    } finally {
      folder.remove();
    }
  });

  it('a setup on PostgreSQL records the salt of the key derived at boot and notes it (0600) for the next boot, which uses it only if the database agrees', async () => {
    const db = await createTestDatabase();
    const folder = tempDir();
    try {
      const env = { ...db.env, ENCRYPTION_SECRET: SECRET };
      const first = await startApp(env, { dataDir: folder.path });
      await setUpWithAdmin(first, 'postgresql');
      const [recorded] = await db.query<{ key_id: string; kdf_salt: string }>('select key_id, kdf_salt from settings_encryption');
      expect(recorded!.key_id).toBe((await SettingsCipher.fromSecret(SECRET, recorded!.kdf_salt)).keyId);
      await first.close();
      const hint = join(folder.path, 'encryption-salt');
      await expect.poll(() => existsSync(hint) && readFileSync(hint, 'utf8').trim()).toBe(recorded!.kdf_salt);
      expect(statSync(hint).mode & 0o777).toBe(0o600);

      const again = await startApp(env, { dataDir: folder.path });
      expect(again.app.setupStatus.snapshot().state).toBe('ready');
      await again.close();

      // A hint naming another salt: its key is not taken; the recorded salt's key is, and the hint follows it.
      writeFileSync(hint, `${SettingsCipher.newSalt()}\n`, { mode: 0o600 });
      const misled = await startApp(env, { dataDir: folder.path });
      try {
        expect(misled.app.setupStatus.snapshot().state).toBe('ready');
        expect(misled.logs.join('')).not.toMatch(/does not match this database/);
        await expect.poll(() => readFileSync(hint, 'utf8').trim()).toBe(recorded!.kdf_salt);
      } finally {
        await misled.close();
      }
    } finally {
      await db.drop();
      folder.remove();
    }
  });
});

describe('the settings key derived at process start (server.ts), before the app loads', () => {
  it('is derived from ENCRYPTION_SECRET and the noted salt, and taken once, only for that secret and salt', async () => {
    const folder = tempDir();
    try {
      const salt = SettingsCipher.newSalt();
      writeFileSync(join(folder.path, 'encryption-salt'), `${salt}\n`, { mode: 0o600 });
      deriveKeyAtProcessStart({ ENCRYPTION_SECRET: SECRET, PERSISTENT_DATA_DIR: folder.path });
      expect(takeKeyDerivedAtStart('another-encryption-secret-0123456789', salt)).toBeNull();
      expect(takeKeyDerivedAtStart(SECRET, SettingsCipher.newSalt())).toBeNull();
      const taken = takeKeyDerivedAtStart(SECRET, salt);
      expect(await taken).toMatchObject({ kdfSalt: salt, keyId: (await SettingsCipher.fromSecret(SECRET, salt)).keyId });
      expect(takeKeyDerivedAtStart(SECRET, salt)).toBeNull();

      // No hint, or a secret loadConfig refuses: nothing is started.
      deriveKeyAtProcessStart({ ENCRYPTION_SECRET: 'too-short', PERSISTENT_DATA_DIR: folder.path });
      expect(takeKeyDerivedAtStart('too-short', salt)).toBeNull();
    } finally {
      folder.remove();
    }
  });

  it('is what the settings phase gets for the database that recorded that salt; a wrong secret is still refused there', async () => {
    const folder = tempDir();
    const silent = pino({ level: 'silent' });
    try {
      const salt = SettingsCipher.newSalt();
      const recorded = { keyId: (await SettingsCipher.fromSecret(SECRET, salt)).keyId, kdfSalt: salt };
      writeFileSync(join(folder.path, 'encryption-salt'), `${salt}\n`, { mode: 0o600 });

      deriveKeyAtProcessStart({ ENCRYPTION_SECRET: SECRET, PERSISTENT_DATA_DIR: folder.path });
      const keys = new EncryptionKeys(loadConfig({ PERSISTENT_DATA_DIR: folder.path, ENCRYPTION_SECRET: SECRET }), silent);
      keys.deriveAheadForThisInstallation();
      // Handed over to the app's keys, not derived a second time.
      expect(takeKeyDerivedAtStart(SECRET, salt)).toBeNull();
      expect(await keys.resolve(recorded)).toMatchObject(recorded);

      const wrongSecret = 'wrong-encryption-secret-0123456789';
      deriveKeyAtProcessStart({ ENCRYPTION_SECRET: wrongSecret, PERSISTENT_DATA_DIR: folder.path });
      const wrong = new EncryptionKeys(loadConfig({ PERSISTENT_DATA_DIR: folder.path, ENCRYPTION_SECRET: wrongSecret }), silent);
      wrong.deriveAheadForThisInstallation();
      await expect(wrong.resolve(recorded)).rejects.toThrow(/does not match this database/);
    } finally {
      folder.remove();
    }
  });
});
