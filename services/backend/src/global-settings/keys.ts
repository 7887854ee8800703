import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.ts';
import { EncryptionKeyError, readKeyFile, SettingsCipher, writeKeyFile } from './crypto.ts';

const KEY_FILE_NAME = 'encryption.key';

/** What the database records of its key: the key's id and, for a key derived from ENCRYPTION_SECRET, the salt. */
interface RecordedKey {
  keyId: string;
  kdfSalt: string | null;
}

/**
 * Where the settings key comes from: ENCRYPTION_SECRET (derived once per boot with this
 * installation's salt from the database), or else a random key in PERSISTENT_DATA_DIR/encryption.key
 * that the first setup creates. There is no built-in fallback key.
 */
export class EncryptionKeys {
  private cipher: SettingsCipher | null = null;
  /** A key for a new installation, derived ahead (deriveAheadForNewInstallation) with its own new salt. */
  private derivingAhead: Promise<SettingsCipher> | null = null;

  constructor(
    private readonly config: Config,
    private readonly log: FastifyBaseLogger,
  ) {}

  get keyFilePath(): string {
    return join(this.config.persistentDataDir, KEY_FILE_NAME);
  }

  /**
   * Starts deriving the key a new installation would get (a new random salt, scrypt in the thread
   * pool), so that setup finds it ready instead of spending half a second on it. Used only for a
   * database with no key recorded, always with the salt it was derived with; a database that has
   * a key derives it from its own recorded salt as before.
   */
  deriveAheadForNewInstallation(): void {
    const secret = this.config.encryptionSecret;
    if (!secret || this.cipher || this.derivingAhead) return;
    this.derivingAhead = SettingsCipher.fromSecret(secret, SettingsCipher.newSalt());
    // Awaited by resolve() if it is needed; a failure then surfaces there (scrypt itself does not fail here).
    this.derivingAhead.catch(() => {});
  }

  /** The key this database's secrets were encrypted with (`recorded`), or a new one for a new database. */
  async resolve(recorded: RecordedKey | null): Promise<SettingsCipher> {
    const secret = this.config.encryptionSecret;
    if (secret && !recorded && !this.cipher && this.derivingAhead) this.cipher = await this.derivingAhead;
    if (secret) {
      // A new database gets a random salt of its own; an existing one names its salt (null: set up before salts).
      const salt = recorded ? recorded.kdfSalt : (this.cipher?.kdfSalt ?? SettingsCipher.newSalt());
      if (!this.cipher || this.cipher.kdfSalt !== salt) this.cipher = await SettingsCipher.fromSecret(secret, salt);
      if (salt === null && recorded?.keyId === this.cipher.keyId) {
        this.log.warn(
          'The settings key is derived from ENCRYPTION_SECRET with the fixed salt of earlier versions. To move to a salt of this installation\'s own, stop every server and run ' +
            'NEW_ENCRYPTION_SECRET=<a new secret, or the same one> npm run settings:rotate-key.',
        );
      }
    } else {
      this.cipher ??= readKeyFile(this.keyFilePath);
    }
    const expectedKeyId = recorded?.keyId ?? null;
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
