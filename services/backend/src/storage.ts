import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StorageError } from './errors.ts';

/**
 * Writes a file so that readers see either the old content or the new one, never a part:
 * temp file in the same folder, fsync, rename over the target, fsync the folder.
 */
export function writeFileAtomic(path: string, content: string, mode = 0o644): void {
  const temp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(temp, 'wx', mode);
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
    syncFolder(dirname(path));
  } catch (error) {
    rmSync(temp, { force: true });
    throw new StorageError(`Cannot write ${path}: ${(error as Error).message}. Check that PERSISTENT_DATA_DIR exists and is writable.`, {
      cause: error,
    });
  }
}

function syncFolder(folder: string): void {
  const fd = openSync(folder, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Fails early, with words a person can act on, when the persistent data folder is missing or not
 * writable: before setup touches a database, so nothing is half done.
 */
export function assertWritableFolder(path: string, name = 'PERSISTENT_DATA_DIR'): void {
  let isFolder = false;
  try {
    isFolder = statSync(path).isDirectory();
  } catch {
    // reported below
  }
  if (!isFolder) throw new StorageError(`${name} (${path}) does not exist or is not a folder. Create it, or point ${name} at one.`);
  const probe = join(path, `.write-test-${randomBytes(4).toString('hex')}`);
  try {
    closeSync(openSync(probe, 'wx', 0o600));
    rmSync(probe, { force: true });
  } catch (error) {
    throw new StorageError(`${name} (${path}) is not writable: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. Fix its permissions or mount it read-write.`);
  }
}
