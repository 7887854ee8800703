import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { PostgresSettings } from '../../config.ts';
import { BackupError } from './errors.ts';
import { linesOf } from './sql-script.ts';

const run = promisify(execFile);

/**
 * Options shared by both kinds of dump. INSERT statements, never COPY: every target can run them,
 * PGlite and node-postgres included (COPY … FROM stdin only works through psql). 1000 rows per
 * INSERT keeps that nearly as fast. No owners or grants: the target's roles are not the source's.
 */
export const DUMP_ARGS = ['--inserts', '--rows-per-insert=1000', '--no-owner', '--no-privileges'];

/** What to install, said the same way wherever pg_dump is missing or too old. */
function installHint(serverMajor: number): string {
  return (
    `Install the PostgreSQL ${serverMajor} client tools (Debian/Ubuntu: apt-get install postgresql-client-${serverMajor}, from apt.postgresql.org when your release lacks it; ` +
    `the Docker image has them), or set PG_DUMP_PATH to a pg_dump of version ${serverMajor} or newer.`
  );
}

/** The pg_dump to run and its major version; refuses one that is missing or older than the server. */
export async function findPgDump(pgDumpPath: string | undefined, serverMajor: number): Promise<string> {
  const command = pgDumpPath || 'pg_dump';
  let output: string;
  try {
    output = (await run(command, ['--version'], { timeout: 30_000 })).stdout;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = pgDumpPath ? `at PG_DUMP_PATH (${pgDumpPath})` : 'on the PATH';
    throw new BackupError(500, 'pg_dump_unavailable', `Backing up a PostgreSQL server needs pg_dump, and there is none ${where}${code && code !== 'ENOENT' ? ` (${code})` : ''}. ${installHint(serverMajor)}`);
  }
  const major = Number(/(\d+)(?:\.\d+)?/.exec(output)?.[1]);
  if (!Number.isInteger(major)) throw new BackupError(500, 'pg_dump_unavailable', `${command} --version printed "${output.trim()}", not a pg_dump version. ${installHint(serverMajor)}`);
  if (major < serverMajor) {
    throw new BackupError(500, 'pg_dump_unavailable', `${command} is version ${major}, older than the PostgreSQL server (${serverMajor}), and pg_dump cannot dump a newer server. ${installHint(serverMajor)}`);
  }
  return command;
}

/**
 * libpq settings for pg_dump. The password goes in the environment, never on the command line,
 * where any user could read it in the process list.
 */
function libpqEnvironment(settings: PostgresSettings): { env: Record<string, string>; dbnameArg: string[] } {
  const env: Record<string, string> = {};
  if ('connectionString' in settings.connection) {
    const url = new URL(settings.connection.connectionString);
    if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
    url.password = '';
    return { env, dbnameArg: [`--dbname=${url.href}`] };
  }
  const { host, port, database, user, password, ssl } = settings.connection;
  Object.assign(env, { PGHOST: host, PGPORT: String(port), PGDATABASE: database, PGUSER: user });
  if (password) env.PGPASSWORD = password;
  if (ssl) env.PGSSLMODE = 'require';
  return { env, dbnameArg: [] };
}

/**
 * Runs pg_dump against the server and yields its output line by line. `snapshot` is a snapshot
 * exported by a transaction the caller keeps open: the dump then sees exactly what the caller read.
 */
export async function* pgDumpLines(command: string, settings: PostgresSettings, snapshot: string): AsyncGenerator<string> {
  const { env, dbnameArg } = libpqEnvironment(settings);
  // Only what pg_dump needs: a PG* variable of the caller's shell must not point it elsewhere.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PG')));
  const child = spawn(command, [...DUMP_ARGS, `--snapshot=${snapshot}`, ...dbnameArg], {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    if (stderr.length < 10_000) stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  try {
    yield* linesOf(child.stdout);
    const code = await exited;
    if (code !== 0) throw new BackupError(500, 'backup_failed', `pg_dump failed (exit code ${code}): ${scrub(stderr.trim(), env.PGPASSWORD)}`);
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

function scrub(text: string, password: string | undefined): string {
  return password ? text.split(password).join('***') : text;
}
