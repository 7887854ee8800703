import { eq, sql } from 'drizzle-orm';
import type { AppDatabase } from '../db/index.ts';
import { globalSettings, settingsEncryption } from '../db/schema/index.ts';
import { EncryptionKeyError, type SettingsCipher } from './crypto.ts';

/**
 * Re-encrypts every secret with `next` in one transaction and records the new key id. Either all
 * secrets move to the new key (and its salt) or none do. Returns how many values were re-encrypted.
 */
export async function rotateEncryptionKey(db: AppDatabase, current: SettingsCipher, next: SettingsCipher): Promise<number> {
  return db.transaction(async (tx) => {
    const [recorded] = await tx.select({ keyId: settingsEncryption.keyId }).from(settingsEncryption).for('update');
    if (recorded && recorded.keyId !== current.keyId) {
      throw new EncryptionKeyError(`The current key (${current.keyId}) is not the one this database uses (${recorded.keyId}).`);
    }
    const secrets = await tx
      .select({ key: globalSettings.key, value: globalSettings.value })
      .from(globalSettings)
      .where(sql`${globalSettings.isEncrypted} and ${globalSettings.value} is not null`)
      .for('update');
    for (const secret of secrets) {
      const plaintext = current.decrypt(String(secret.value), secret.key);
      await tx.update(globalSettings).set({ value: next.encrypt(plaintext, secret.key), updatedAt: sql`now()` }).where(eq(globalSettings.key, secret.key));
    }
    await tx
      .insert(settingsEncryption)
      .values({ keyId: next.keyId, kdfSalt: next.kdfSalt })
      .onConflictDoUpdate({ target: settingsEncryption.id, set: { keyId: next.keyId, kdfSalt: next.kdfSalt, updatedAt: sql`now()` } });
    return secrets.length;
  });
}
