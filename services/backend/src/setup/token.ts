import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../errors.ts';
import { readPrivateFile, writeFileAtomic } from '../storage.ts';

const SETUP_TOKEN_FILE_NAME = 'setup-token';

class SetupTokenError extends AppError {
  constructor(code: 'setup_token_required' | 'invalid_setup_token', message: string) {
    super(401, code, message);
  }
}

/**
 * The one-time secret that guards POST /api/db/setup, so the first stranger to find an
 * unconfigured instance cannot set it up. From SETUP_TOKEN, or generated into a 0600 file.
 */
export class SetupToken {
  private digest: Buffer | null = null;

  constructor(
    private readonly persistentDataDir: string,
    private readonly fromEnvironment: string | null,
  ) {
    if (fromEnvironment) this.digest = sha256(fromEnvironment);
  }

  get path(): string {
    return join(this.persistentDataDir, SETUP_TOKEN_FILE_NAME);
  }

  /** Makes sure a token exists; returns it when it was generated or read from the file (for the ready URL). */
  ensure(): { token: string; source: 'environment' | 'file' } {
    if (this.fromEnvironment) return { token: this.fromEnvironment, source: 'environment' };
    let token = this.readFile();
    if (!token) {
      token = randomBytes(24).toString('base64url');
      mkdirSync(this.persistentDataDir, { recursive: true });
      writeFileAtomic(this.path, `${token}\n`);
    }
    this.digest = sha256(token);
    return { token, source: 'file' };
  }

  /** Throws a 401 unless `candidate` is the token; compares in constant time. */
  verify(candidate: string | undefined): void {
    if (!candidate) {
      throw new SetupTokenError('setup_token_required', 'Send the setup token in the X-Setup-Token header. It is in the server log and in PERSISTENT_DATA_DIR/setup-token.');
    }
    if (!this.digest || !timingSafeEqual(this.digest, sha256(candidate))) {
      throw new SetupTokenError('invalid_setup_token', 'The setup token is wrong. Copy it again from the server log or PERSISTENT_DATA_DIR/setup-token.');
    }
  }

  /** After a successful setup the token is spent. */
  consume(): void {
    this.digest = null;
    rmSync(this.path, { force: true });
  }

  /** A file that is missing or too short is replaced; one that is not safe to trust throws (StorageError). */
  private readFile(): string | null {
    const token = readPrivateFile(this.path, { secret: true })?.trim();
    return token && token.length >= 16 ? token : null;
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
