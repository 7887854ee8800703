import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.ts';
import { EncryptionKeyError, readKeyFile, SettingsCipher, writeKeyFile } from './crypto.ts';

export const KEY_FILE_NAME = 'encryption.key';

/**
 * Where the settings key comes from: ENCRYPTION_SECRET (derived once, here, at boot), or else a
 * random key in PERSISTENT_DATA_DIR/encryption.key that the first setup creates. There is no
 * built-in fallback key.
 */
export class EncryptionKeys {
  private cipher: SettingsCipher | null;

  constructor(
    private readonly config: Config,
    private readonly log: FastifyBaseLogger,
  ) {
    this.cipher = config.encryptionSecret ? SettingsCipher.fromSecret(config.encryptionSecret) : null;
  }

  get keyFilePath(): string {
    return join(this.config.persistentDataDir, KEY_FILE_NAME);
  }

  /** The key this database's secrets were encrypted with (`expectedKeyId`), or a new one for a new database. */
  resolve(expectedKeyId: string | null): SettingsCipher {
    this.cipher ??= readKeyFile(this.keyFilePath);
    if (this.cipher) {
      if (expectedKeyId && expectedKeyId !== this.cipher.keyId) {
        throw new EncryptionKeyError(
          `The encryption key does not match this database: its secrets were encrypted with key ${expectedKeyId}, the configured key is ${this.cipher.keyId}. ` +
            `Set ENCRYPTION_SECRET to the secret this database was set up with (every replica must share it)${this.config.encryptionSecret ? '' : `, or restore ${this.keyFilePath}`}.`,
        );
      }
      return this.cipher;
    }
    if (expectedKeyId) {
      throw new EncryptionKeyError(
        `This database's secrets are encrypted with key ${expectedKeyId}, but there is no key: set ENCRYPTION_SECRET to the secret it was set up with, or restore ${this.keyFilePath}.`,
      );
    }
    const generated = SettingsCipher.generate();
    writeKeyFile(this.keyFilePath, generated.encoded);
    this.log.warn(
      `Generated a settings encryption key in ${this.keyFilePath}. Back it up. Replicas must share one key: set ENCRYPTION_SECRET on every replica instead.`,
    );
    this.cipher = generated.cipher;
    return this.cipher;
  }
}
