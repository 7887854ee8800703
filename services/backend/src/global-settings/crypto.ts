import { createCipheriv, createDecipheriv, createHmac, randomBytes, scryptSync } from 'node:crypto';
import { AppError } from '../errors.ts';
import { readPrivateFile, writeFileAtomic } from '../storage.ts';

/**
 * AES-256-GCM for encrypted settings. Each value gets a random 96-bit IV and is bound to its
 * setting key (associated data), so a ciphertext cannot be moved to another setting. Stored as
 * `gw1.<keyId>.<iv>.<ciphertext>.<tag>`: the version and key id let keys rotate.
 */
const FORMAT = 'gw1';
// A fixed salt: every replica must derive the same key from the same ENCRYPTION_SECRET.
const KDF_SALT = 'groundwork/global-settings/v1';

export class EncryptionKeyError extends AppError {
  constructor(message: string) {
    super(500, 'encryption_key_error', message);
  }
}

export class SettingsCipher {
  /** Identifies the key without revealing it; stored in the database to catch a wrong key at boot. */
  readonly keyId: string;

  private constructor(private readonly key: Buffer) {
    this.keyId = createHmac('sha256', key).update('groundwork key id').digest('hex').slice(0, 16);
  }

  /** scrypt once, at boot: a passphrase becomes a 256-bit key. Never called per value. */
  static fromSecret(secret: string): SettingsCipher {
    return new SettingsCipher(scryptSync(secret, KDF_SALT, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }));
  }

  static fromKey(key: Buffer): SettingsCipher {
    if (key.length !== 32) throw new EncryptionKeyError('An encryption key must be 32 bytes.');
    return new SettingsCipher(key);
  }

  static generate(): { cipher: SettingsCipher; encoded: string } {
    const key = randomBytes(32);
    return { cipher: new SettingsCipher(key), encoded: key.toString('base64') };
  }

  encrypt(plaintext: string, settingKey: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(`${FORMAT}.${this.keyId}.${settingKey}`));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, this.keyId, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  decrypt(stored: string, settingKey: string): string {
    const [format, keyId, iv, ciphertext, tag] = stored.split('.');
    if (format !== FORMAT || !keyId || iv === undefined || ciphertext === undefined || !tag) {
      throw new EncryptionKeyError(`The stored value of ${settingKey} is not in a known encrypted format.`);
    }
    if (keyId !== this.keyId) {
      throw new EncryptionKeyError(`${settingKey} was encrypted with key ${keyId}, but the current key is ${this.keyId}.`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(`${FORMAT}.${keyId}.${settingKey}`));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new EncryptionKeyError(`The stored value of ${settingKey} failed authentication: it was altered or belongs to another setting.`);
    }
  }
}

/** Reads a key file written by writeKeyFile (base64 of 32 bytes). */
export function readKeyFile(path: string): SettingsCipher | null {
  const text = readPrivateFile(path, { secret: true });
  if (text === null) return null;
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new EncryptionKeyError(`${path} does not hold a 32-byte key (base64). Restore it from a backup or set ENCRYPTION_SECRET.`);
  return SettingsCipher.fromKey(key);
}

export function writeKeyFile(path: string, encoded: string): void {
  writeFileAtomic(path, `${encoded}\n`);
}
