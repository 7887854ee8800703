import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { DatabaseLockedError } from '../../errors.ts';

interface HeldLock {
  release(): void;
}

/**
 * A PID file that keeps a second process off the same PGlite data folder (two processes on one
 * folder silently lose data). A lock left by a process that no longer exists is taken over.
 */
export function acquireLockFile(path: string, what: string): HeldLock {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return holdLock(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = readOwner(path);
    if (owner === process.pid) {
      throw new DatabaseLockedError(`${what} is already open in this process.`);
    }
    if (owner !== null && isAlive(owner)) {
      throw new DatabaseLockedError(
        `${what} is in use by another Groundwork process (PID ${owner}). Stop that process first; only one process can use an embedded database.`,
      );
    }
    // Dead owner or unreadable file: the lock is stale.
    try {
      unlinkSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  throw new DatabaseLockedError(`${what} is being opened by another process at the same moment; try again.`);
}

function holdLock(path: string): HeldLock {
  const releaseOnExit = () => release();
  process.once('exit', releaseOnExit);
  function release() {
    process.removeListener('exit', releaseOnExit);
    // Only remove the file if it is still ours.
    if (existsSync(path) && readOwner(path) === process.pid) unlinkSync(path);
  }
  return { release };
}

function readOwner(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
