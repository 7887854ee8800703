import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../errors.ts';
import { BackupError } from './errors.ts';

/**
 * Streams `chunks` into `path` so that the file is either the whole new content or not there (or
 * the old one): a temp file beside it, fsync, rename, fsync the folder. Mode 0600 from the start.
 */
export async function writeStreamAtomic(path: string, chunks: AsyncIterable<string>): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await pipeline(Readable.from(chunks), createWriteStream(temp, { flags: 'wx', mode: 0o600 }));
    await syncPath(temp, 'r+');
    await rename(temp, path);
    await syncPath(dirname(path), 'r');
  } catch (error) {
    await rm(temp, { force: true });
    if (error instanceof AppError) throw error;
    throw new BackupError(500, 'backup_failed', `Cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. Check that its folder exists and is writable.`, { cause: error });
  }
}

async function syncPath(path: string, flags: string): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
