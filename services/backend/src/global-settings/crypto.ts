import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt, type ScryptOptions } from 'node:crypto';
import { AppError } from '../errors.ts';
import { readPrivateFile, writeFileAtomic } from '../storage.ts';

/**
 * AES-256-GCM for encrypted settings. Each value gets a random 96-bit IV and is bound to its
 * setting key (associated data), so a ciphertext cannot be moved to another setting. Stored as
 * `gw1.<keyId>.<iv>.<ciphertext>.<tag>`: the version and key id let keys rotate.
 */
const FORMAT = 'gw1';
const IV_BYTES = 12;
// GCM accepts tags as short as 4 bytes; a shortened tag is only ever an attack, so take 16 only.
const TAG_BYTES = 16;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

// Current scrypt cost (N=2^17, r=8, p=1: 128 MiB, about half a second, once per boot) with this
// installation's random salt, kept in the database so every replica derives the same key.
const KDF_OPTIONS: ScryptOptions = { N: 2 ** 17, r: 8, p: 1, maxmem: 256 * 1024 * 1024 };
const SALT_BYTES = 16;
// Instances set up before per-installation salts derived their key like this; they keep working
// until `npm run settings:rotate-key` moves them to a salted key.
const LEGACY_KDF = { salt: 'groundwork/global-settings/v1', options: { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } };

export class EncryptionKeyError extends AppError {
  constructor(message: string) {
    super(500, 'encryption_key_error', message);
  }
}

export class SettingsCipher {
  /** Identifies the key without revealing it; stored in the database to catch a wrong key at boot. */
  readonly keyId: string;

  /** `kdfSalt`: the salt the key was derived with (null for a random key, or the legacy derivation). */
  private constructor(
    private readonly key: Buffer,
    readonly kdfSalt: string | null,
  ) {
    this.keyId = createHmac('sha256', key).update('groundwork key id').digest('hex').slice(0, 16);
  }

  /**
   * scrypt once, at boot (in the thread pool, so the event loop keeps answering): a passphrase
   * becomes a 256-bit key. `kdfSalt` null derives the key the way instances set up before salts did.
   */
  static async fromSecret(secret: string, kdfSalt: string | null): Promise<SettingsCipher> {
    if (kdfSalt === null) return new SettingsCipher(await derive(secret, LEGACY_KDF.salt, LEGACY_KDF.options), null);
    const salt = Buffer.from(kdfSalt, 'base64url');
    if (!BASE64URL.test(kdfSalt) || salt.length !== SALT_BYTES) throw new EncryptionKeyError('The key derivation salt recorded in the database is malformed.');
    return new SettingsCipher(await derive(secret, salt, KDF_OPTIONS), kdfSalt);
  }

  /** A random salt for a new installation (or a rotation), base64url. */
  static newSalt(): string {
    return randomBytes(SALT_BYTES).toString('base64url');
  }

  static fromKey(key: Buffer): SettingsCipher {
    if (key.length !== 32) throw new EncryptionKeyError('An encryption key must be 32 bytes.');
    return new SettingsCipher(key, null);
  }

  static generate(): { cipher: SettingsCipher; encoded: string } {
    const key = randomBytes(32);
    return { cipher: new SettingsCipher(key, null), encoded: key.toString('base64') };
  }

  encrypt(plaintext: string, settingKey: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(`${FORMAT}.${this.keyId}.${settingKey}`));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, this.keyId, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  decrypt(stored: string, settingKey: string): string {
    const parts = stored.split('.');
    const [format, keyId, iv, ciphertext, tag] = parts;
    if (parts.length !== 5 || format !== FORMAT || !parts.slice(1).every((part) => BASE64URL.test(part))) {
      throw new EncryptionKeyError(`The stored value of ${settingKey} is not in a known encrypted format.`);
    }
    if (keyId !== this.keyId) {
      throw new EncryptionKeyError(`${settingKey} was encrypted with key ${keyId}, but the current key is ${this.keyId}.`);
    }
    const ivBytes = Buffer.from(iv!, 'base64url');
    const tagBytes = Buffer.from(tag!, 'base64url');
    if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) {
      throw new EncryptionKeyError(`The stored value of ${settingKey} has a ${ivBytes.length}-byte IV and a ${tagBytes.length}-byte tag; only ${IV_BYTES} and ${TAG_BYTES} are accepted.`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, ivBytes, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(`${FORMAT}.${keyId}.${settingKey}`));
      decipher.setAuthTag(tagBytes);
      return Buffer.concat([decipher.update(Buffer.from(ciphertext!, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new EncryptionKeyError(`The stored value of ${settingKey} failed authentication: it was altered or belongs to another setting.`);
    }
  }
}

function derive(secret: string, salt: string | Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(secret, salt, 32, options, (error, key) => (error ? reject(error) : resolve(key))));
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
