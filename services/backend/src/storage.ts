import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { StorageError } from './errors.ts';

// Owner and mode checks mean nothing on Windows (no POSIX uids): there they are skipped.
const serverUid = process.getuid?.() ?? null;
const GROUP_OR_OTHERS_WRITE = 0o022;
const GROUP_OR_OTHERS_ANY = 0o077;

/**
 * Writes a file so that readers see either the old content or the new one, never a part:
 * temp file in the same folder, fsync, rename over the target, fsync the folder. Always 0600:
 * everything Groundwork keeps in PERSISTENT_DATA_DIR is for the server's user only.
 */
export function writeFileAtomic(path: string, content: string): void {
  const temp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(temp, 'wx', 0o600);
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
 * Fails early, with words a person can act on, when the persistent data folder is missing, not
 * writable, or not safe: another user who can write to it (or owns it) could plant the files the
 * server trusts (OpenSSH's StrictModes, PostgreSQL's data-directory check). Called before setup
 * touches a database, so nothing is half done. A folder only others can read (0755) is accepted:
 * every file in it is 0600 and the PGlite folder 0700.
 */
export function assertDataFolder(path: string, name = 'PERSISTENT_DATA_DIR'): void {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    // reported below
  }
  if (!stats?.isDirectory()) throw new StorageError(`${name} (${path}) does not exist or is not a folder. Create it, or point ${name} at one.`);
  const probe = join(path, `.write-test-${randomBytes(4).toString('hex')}`);
  try {
    closeSync(openSync(probe, 'wx', 0o600));
    rmSync(probe, { force: true });
  } catch (error) {
    throw new StorageError(`${name} (${path}) is not writable: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. Fix its permissions or mount it read-write.`);
  }
  if (serverUid === null) return;
  if (stats.uid !== serverUid) {
    throw new StorageError(
      `${name} (${path}) belongs to uid ${stats.uid}, not to the user the server runs as (uid ${serverUid}): that user could plant the files the server trusts. ` +
        `Run the server as its owner, or give it to this user: chown ${serverUid} ${path}`,
    );
  }
  if ((stats.mode & GROUP_OR_OTHERS_WRITE) !== 0) {
    throw new StorageError(
      `${name} (${path}) is writable by other users (mode ${octal(stats.mode)}): they could plant the files the server trusts. Make it private: chmod 700 ${path}`,
    );
  }
}

/**
 * Makes a folder tree the server's alone: folders 0700, files 0600. The top folder is done first,
 * so no other user can get into the tree while the rest is changed. Symbolic links are left alone.
 * For PGlite's folder, whose files PGlite creates 0666 whatever the umask.
 */
export function makePrivate(root: string): void {
  let current = root;
  try {
    chmodSync(root, 0o700);
    const walk = (folder: string) => {
      for (const entry of readdirSync(folder, { withFileTypes: true })) {
        current = join(folder, entry.name);
        if (entry.isDirectory()) {
          chmodSync(current, 0o700);
          walk(current);
        } else if (entry.isFile()) {
          chmodSync(current, 0o600);
        }
      }
    };
    walk(root);
  } catch (error) {
    throw new StorageError(
      `Cannot make ${current} private: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. Everything in ${root} must belong to the user the server runs as (chown -R to that user).`,
      { cause: error },
    );
  }
}

/**
 * Reads one of the server's own state files, or null when there is none. Trusted only when it is
 * a regular file (a symbolic link is not followed), owned by the server's user and not open to
 * others. `secret` files (tokens, keys) others could read are refused, since their content may have
 * leaked; a non-secret file others can only read is made 0600. Errors name the file and the fix,
 * never its content.
 */
export function readPrivateFile(path: string, options: { secret: boolean }): string | null {
  let fd: number;
  try {
    // O_NONBLOCK: a planted FIFO must not hang the server; it has no effect on regular files.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw untrusted(path, 'it is a symbolic link, and the server does not follow links for its own files', `remove the link: rm ${path}`);
    throw new StorageError(`Cannot read ${path}: ${code ?? (error as Error).message}.`, { cause: error });
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw untrusted(path, 'it is not a regular file', `remove it: rm ${path}`);
    if (serverUid !== null) {
      if (stats.uid !== serverUid) {
        throw untrusted(path, `it belongs to uid ${stats.uid}, not to the user the server runs as (uid ${serverUid})`, `if you wrote it, chown ${serverUid} ${path}; otherwise remove it`);
      }
      const open = stats.mode & GROUP_OR_OTHERS_ANY;
      if ((open & GROUP_OR_OTHERS_WRITE) !== 0 || (open !== 0 && options.secret)) {
        throw untrusted(path, `its mode is ${octal(stats.mode)}, so other users can ${open & GROUP_OR_OTHERS_WRITE ? 'change' : 'read'} it`, `if you wrote it, chmod 600 ${path}; otherwise remove it`);
      }
      if (open !== 0) fchmodSync(fd, 0o600);
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

function untrusted(path: string, reason: string, fix: string): StorageError {
  return new StorageError(`${path} is not trusted: ${reason}. Its content was not used. Fix: ${fix}.`);
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}
