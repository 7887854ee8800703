/**
 * `npm run settings:rotate-key`: re-encrypts all secret settings with a new key, in one transaction.
 *   NEW_ENCRYPTION_SECRET=… npm run settings:rotate-key   (instances that use ENCRYPTION_SECRET)
 *   npm run settings:rotate-key                            (instances that use persistent_data/encryption.key)
 * Stop every server of this instance first: a running one would keep writing with the old key.
 */
import { renameSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { SettingsCipher, writeKeyFile } from '../global-settings/crypto.ts';
import { EncryptionKeys } from '../global-settings/keys.ts';
import { rotateEncryptionKey } from '../global-settings/rotate.ts';
import { settingsEncryption } from '../db/schema/index.ts';
import { LISTEN_APPLICATION_NAME } from '../db/drivers/postgres.ts';
import { cliLog, runCli, withInstanceDatabase } from './instance-database.ts';

runCli(async () => {
  await withInstanceDatabase(async ({ config, session }) => {
    // Every running server keeps one LISTEN connection for setting changes; this command has none.
    const [others] = await session.db
      .select({ count: sql<number>`count(*)::int` })
      .from(sql`pg_stat_activity`)
      .where(sql`datname = current_database() and application_name = ${LISTEN_APPLICATION_NAME}`);
    const running = others?.count ?? 0;
    if (running > 0) throw new Error(`${running} running Groundwork server(s) use this database. Stop every server first, then rotate.`);

    const keys = new EncryptionKeys(config, cliLog);
    const [recorded] = await session.db.select({ keyId: settingsEncryption.keyId, kdfSalt: settingsEncryption.kdfSalt }).from(settingsEncryption);
    const current = await keys.resolve(recorded ?? null);

    const newSecret = process.env.NEW_ENCRYPTION_SECRET;
    if (config.encryptionSecret && !newSecret) throw new Error('This instance uses ENCRYPTION_SECRET: set NEW_ENCRYPTION_SECRET (32+ characters) to the new secret.');
    if (newSecret !== undefined && newSecret.length < 32) throw new Error('NEW_ENCRYPTION_SECRET must be at least 32 characters long.');

    let next: SettingsCipher;
    let pendingKeyFile: string | null = null;
    if (newSecret) {
      // A new random salt every time: the same secret again moves a key derived before salts to a salted one.
      next = await SettingsCipher.fromSecret(newSecret, SettingsCipher.newSalt());
    } else {
      // Written beside the old key first: if anything fails before the rename, the old key still works.
      const generated = SettingsCipher.generate();
      pendingKeyFile = `${keys.keyFilePath}.new`;
      writeKeyFile(pendingKeyFile, generated.encoded);
      next = generated.cipher;
    }

    const count = await rotateEncryptionKey(session.db, current, next);
    if (pendingKeyFile) renameSync(pendingKeyFile, keys.keyFilePath);
    console.log(`Re-encrypted ${count} secret setting(s) with key ${next.keyId}.`);
    console.log(newSecret ? 'Now set ENCRYPTION_SECRET to the new secret on every replica, then start them.' : `The new key is in ${keys.keyFilePath}; back it up.`);
  });
});
