import { join, resolve } from 'node:path';
import { DEFAULT_PERSISTENT_DATA_DIR } from '../paths.ts';
import { readPrivateFile } from '../storage.ts';
import { SettingsCipher } from './crypto.ts';

// The salt (not secret: the database records it too) this installation's key was last derived
// with, so the next boot can start scrypt before the database answers. Only a hint: the key is
// used only if the database records this very salt (EncryptionKeys.resolve).
const SALT_HINT_FILE_NAME = 'encryption-salt';

export function saltHintPath(persistentDataDir: string): string {
  return join(persistentDataDir, SALT_HINT_FILE_NAME);
}

/** The salt noted in the data folder by the last boot, or null (none, or not a salt). Throws for an untrusted file. */
export function readSaltHint(persistentDataDir: string): string | null {
  const hint = readPrivateFile(saltHintPath(persistentDataDir), { secret: false })?.trim();
  return hint && /^[A-Za-z0-9_-]{22}$/.test(hint) ? hint : null;
}

/**
 * The key from the noted salt, started by the first line the server process runs (server.ts),
 * before the app's modules load: scrypt takes about half a second in the thread pool and loading
 * about as long on the main thread, so boot finds the key ready instead of waiting for it after
 * listening. Only a head start for EncryptionKeys, with the very inputs it would use: nothing is
 * checked or trusted here, and the key stays in this process's memory.
 */
let started: { secret: string; salt: string; cipher: Promise<SettingsCipher> } | null = null;

/** At process start, from the environment as it is (loadConfig validates it afterwards). */
export function deriveKeyAtProcessStart(env: NodeJS.ProcessEnv = process.env): void {
  const secret = env.ENCRYPTION_SECRET;
  // A secret that short is refused by loadConfig: the process is about to exit.
  if (!secret || secret.length < 32) return;
  let salt: string | null;
  try {
    salt = readSaltHint(resolve(env.PERSISTENT_DATA_DIR || DEFAULT_PERSISTENT_DATA_DIR));
  } catch {
    return; // An untrusted hint file: boot reports the folder's problems itself.
  }
  if (!salt) return;
  const cipher = SettingsCipher.fromSecret(secret, salt);
  // Awaited by EncryptionKeys when its salt is the one needed; a failure surfaces there.
  cipher.catch(() => {});
  started = { secret, salt, cipher };
}

/** The key started at process start, if it was derived from this secret and salt; handed out once. */
export function takeKeyDerivedAtStart(secret: string, salt: string): Promise<SettingsCipher> | null {
  const derivation = started;
  if (derivation?.secret !== secret || derivation.salt !== salt) return null;
  started = null;
  return derivation.cipher;
}
