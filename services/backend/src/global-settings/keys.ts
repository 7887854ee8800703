import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.ts';
import { readPrivateFile } from '../storage.ts';
import { EncryptionKeyError, readKeyFile, SettingsCipher, writeKeyFile } from './crypto.ts';
import { readSaltHint, saltHintPath, takeKeyDerivedAtStart } from './early-key.ts';

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
  /** A key derived ahead of the settings phase, and the salt it was derived with. */
  private ahead: { salt: string; forNewInstallation: boolean; cipher: Promise<SettingsCipher> } | null = null;

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
    this.deriveAhead(() => SettingsCipher.newSalt(), true);
  }

  /** At start: the key from the salt this data folder's installation was last keyed with, if it is known. */
  deriveAheadForThisInstallation(): void {
    this.deriveAhead(() => readSaltHint(this.config.persistentDataDir), false);
  }

  private deriveAhead(salt: () => string | null, forNewInstallation: boolean): void {
    const secret = this.config.encryptionSecret;
    // A new installation's key replaces one derived from an old hint (the data folder was not set up after all).
    if (!secret || this.cipher || (this.ahead && (this.ahead.forNewInstallation || !forNewInstallation))) return;
    let chosen: string | null;
    try {
      chosen = salt();
    } catch {
      return; // An untrusted hint file: no head start; the settings phase derives as before.
    }
    if (!chosen) return;
    // Started already, before the app's modules loaded (server.ts)?
    const cipher = (!forNewInstallation && takeKeyDerivedAtStart(secret, chosen)) || SettingsCipher.fromSecret(secret, chosen);
    // Awaited by resolve() when its salt is the one needed; a failure then surfaces there.
    cipher.catch(() => {});
    this.ahead = { salt: chosen, forNewInstallation, cipher };
  }

  private get saltHintPath(): string {
    return saltHintPath(this.config.persistentDataDir);
  }

  /** Notes the salt for the next boot, in the background: a hint needs no fsync, and a lost one only costs that boot its head start. */
  private rememberSalt(salt: string): void {
    const path = this.saltHintPath;
    const temp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
    const noteIt = async () => {
      if (readPrivateFile(path, { secret: false })?.trim() === salt) return;
      await writeFile(temp, `${salt}\n`, { flag: 'wx', mode: 0o600 });
      await rename(temp, path);
    };
    noteIt().catch(async (error: unknown) => {
      await rm(temp, { force: true });
      this.log.warn(`Could not note the settings key's salt in ${path} (the next boot derives the key a little later): ${(error as Error).message}`);
    });
  }

  /** The key this database's secrets were encrypted with (`recorded`), or a new one for a new database. */
  async resolve(recorded: RecordedKey | null): Promise<SettingsCipher> {
    const secret = this.config.encryptionSecret;
    // A key derived ahead is taken only for the salt it was derived with.
    const ahead = this.ahead;
    if (secret && ahead && !this.cipher && (recorded ? recorded.kdfSalt === ahead.salt : ahead.forNewInstallation)) this.cipher = await ahead.cipher;
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
      if (secret && this.cipher.kdfSalt) this.rememberSalt(this.cipher.kdfSalt);
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
