import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { REPO_ROOT } from '../../services/backend/src/paths.ts';
import { setUpWithAdmin } from './admin.ts';
import { cliEntry, runCli } from './cli.ts';
import { startApp } from './app.ts';

const MOVE_ENTRY = cliEntry('move.ts');

/** `npm run db:move -- <args>` in its own process, with only the given environment. */
export function runMove(env: Record<string, string>, args: string[]) {
  return runCli('move.ts', env, args);
}

/** Starts a move that pauses when `stage` begins (GROUNDWORK_MOVE_PAUSE_AT), SIGKILLs it there, and returns its output. */
export async function killMoveAt(stage: string, env: Record<string, string>, args: string[]): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', MOVE_ENTRY, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, GROUNDWORK_MOVE_PAUSE_AT: stage },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 120_000;
  while (!output.includes(`Paused at ${stage}`)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`The move never paused at ${stage}:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  await exited;
  return output;
}

export function selectedType(dataDir: string): string {
  return (JSON.parse(readFileSync(join(dataDir, 'db.selection.json'), 'utf8')) as { type: string }).type;
}

export const SECRET_VALUE = 'smtp-password-that-must-survive-the-move';

/**
 * An instance set up through the API with what a move must carry: an encrypted setting, a plain
 * one, two notes (notes plugin) and the admin token. Returns the admin token.
 */
export async function instanceWithData(env: Record<string, string>, dataDir: string, type: 'pglite' | 'postgresql'): Promise<string> {
  const t = await startApp(env, { dataDir });
  try {
    const admin = await setUpWithAdmin(t, type);
    expect((await admin.call('PUT', '/api/settings/mail.password', { value: SECRET_VALUE })).statusCode).toBe(200);
    expect((await admin.call('PUT', '/api/settings/mail.port', { value: 2525 })).statusCode).toBe(200);
    for (const title of ['first', 'second']) expect((await admin.call('POST', '/api/plugins/notes/', { title, body: `body of ${title}` })).statusCode).toBe(201);
    return admin.token;
  } finally {
    await t.close();
  }
}

/** Tables in the application's schemas of a PostgreSQL database (what "empty" means for a move). */
export const USER_TABLES_SQL = `select table_schema || '.' || table_name as name from information_schema.tables
  where table_schema not in ('pg_catalog', 'information_schema') order by 1`;

/** Boots the instance in this process (same folder, same key) and checks the secret still decrypts. */
export async function expectSecretReadsBack(env: Record<string, string>, dataDir: string): Promise<void> {
  const t = await startApp(env, { dataDir });
  try {
    expect(t.app.setupStatus.snapshot().state).toBe('ready');
    expect(t.app.settings.get('mail.password')).toBe(SECRET_VALUE);
    expect(t.app.settings.get('mail.port')).toBe(2525);
  } finally {
    await t.close();
  }
}
