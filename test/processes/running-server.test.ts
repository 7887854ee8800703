import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../services/backend/src/paths.ts';
import { startApp } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { instanceWithData, runMove, selectedType, SECRET_VALUE } from '../helpers/move.ts';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/temp.ts';
import { systemPostgresBindir } from '../support/system-postgres.ts';

const run = promisify(execFile);
const EXTRA_NOTES = 3_000;

async function call(server: ServerProcess, token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as any };
}

async function runBackup(env: Record<string, string>, out: string) {
  try {
    const entry = join(REPO_ROOT, 'services/backend/src/cli/backup.ts');
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', entry, '--out', out], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** More notes, written straight into the stopped instance's folder: a copy long enough to watch. */
async function addNotes(dataDir: string, count: number): Promise<void> {
  const client = await PGlite.create(join(dataDir, 'pglite'));
  try {
    await client.query(`insert into notes_notes (title, body) select 'bulk ' || g, repeat('x', 200) from generate_series(1, ${count}) g`);
  } finally {
    await client.close();
  }
}

describe('operator commands while the server runs', () => {
  let target: TestDatabase;
  let folder: ReturnType<typeof tempDir>;
  let env: Record<string, string>;
  let server: ServerProcess | null = null;
  beforeEach(async () => {
    target = await createTestDatabase();
    folder = tempDir();
    env = { ...target.env, PERSISTENT_DATA_DIR: folder.path };
  });
  afterEach(async () => {
    await server?.stop('SIGKILL');
    server = null;
    await target.drop();
    folder.remove();
  });

  it('backs up a running PGlite instance through its control socket; psql restores it into an empty PostgreSQL', async () => {
    const token = await instanceWithData(env, folder.path, 'pglite');
    server = await spawnServer(env);
    await server.waitForStatus((status) => status.state === 'ready');
    const socket = join(folder.path, 'control.sock');
    await expect.poll(() => existsSync(socket)).toBe(true);
    expect(statSync(socket).mode & 0o777).toBe(0o600);

    const out = join(folder.path, 'running.sql');
    const [backedUp, served] = await Promise.all([runBackup({ PERSISTENT_DATA_DIR: folder.path }, out), call(server, token, 'GET', '/api/plugins/notes/')]);
    expect(backedUp).toMatchObject({ code: 0, stderr: '' });
    expect(backedUp.stdout).toContain('through the running server');
    expect(served.status).toBe(200);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out, 'utf8')).toMatch(/^-- Groundwork backup/);
    // The server kept serving, and still does.
    expect((await call(server, token, 'POST', '/api/plugins/notes/', { title: 'after the backup' })).status).toBe(201);

    const restored = await createTestDatabase();
    try {
      const bindir = systemPostgresBindir();
      await run(bindir ? join(bindir, 'psql') : 'psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', restored.url, '-f', out]);
      expect(await restored.query('select title from notes_notes order by id')).toEqual([{ title: 'first' }, { title: 'second' }]);
      expect(await restored.query(`select is_encrypted, value::text like '"gw1.%' as ciphertext from global_settings where key = 'mail.password'`)).toEqual([{ is_encrypted: true, ciphertext: true }]);
    } finally {
      await restored.drop();
    }

    expect(await server.stop()).toBe(0);
    expect(existsSync(socket)).toBe(false);
  });

  it('moves a running PGlite instance to PostgreSQL: writes 503 maintenance meanwhile, reads served, then on PostgreSQL without a restart', async () => {
    const token = await instanceWithData(env, folder.path, 'pglite');
    await addNotes(folder.path, EXTRA_NOTES);
    const resume = join(folder.path, 'resume-move');
    server = await spawnServer({ ...env, GROUNDWORK_MOVE_PAUSE_AT: 'verifying', GROUNDWORK_MOVE_RESUME_FILE: resume });
    await server.waitForStatus((status) => status.state === 'ready');
    await expect.poll(() => existsSync(join(folder.path, 'control.sock'))).toBe(true);
    const pid = server.child.pid;

    const moving = runMove({ PERSISTENT_DATA_DIR: folder.path }, ['--to', 'postgresql']);
    const during = await server.waitForStatus((status) => status.state === 'maintenance' && status.maintenance?.stage === 'verifying', 60_000);
    expect(during).toMatchObject({
      state: 'maintenance',
      type: 'pglite',
      initialized: true,
      maintenance: { operation: 'move', target: 'postgresql', stage: 'verifying', table: expect.any(String), rows_done: expect.any(Number), rows_total: expect.any(Number) },
    });
    const refused = await call(server, token, 'PUT', '/api/settings/mail.port', { value: 2626 });
    expect(refused).toMatchObject({ status: 503, retryAfter: '30', body: { error: 'maintenance', message: expect.stringMatching(/maintenance/) } });
    expect((await call(server, token, 'POST', '/api/plugins/notes/', { title: 'refused' })).status).toBe(503);
    const notes = await call(server, token, 'GET', '/api/plugins/notes/');
    expect(notes.status).toBe(200);
    expect((await call(server, token, 'GET', '/api/settings/mail.port')).body).toMatchObject({ value: 2525 });
    expect((await server.get('/api/health/ready')).status).toBe(200);

    writeFileSync(resume, '');
    const moved = await moving;
    expect(moved).toMatchObject({ code: 0, stderr: '' });
    expect(moved.stdout).toMatch(/Copied and verified \d+ row\(s\)/);
    expect(moved.stdout).toContain('no restart needed');

    expect(await server.waitForStatus((status) => status.state !== 'maintenance')).toMatchObject({ state: 'ready', type: 'postgresql', initialized: true });
    expect(server.child.pid).toBe(pid);
    expect(server.child.exitCode).toBeNull();
    expect(selectedType(folder.path)).toBe('postgresql');
    expect(readdirSync(folder.path).some((name) => /^pglite\.moved-/.test(name))).toBe(true);
    expect(existsSync(join(folder.path, 'pglite'))).toBe(false);

    // Same admin token, writes land in PostgreSQL with the next id, settings follow the new database.
    const created = await call(server, token, 'POST', '/api/plugins/notes/', { title: 'written after the move' });
    expect(created).toMatchObject({ status: 201, body: { id: EXTRA_NOTES + 3 } });
    expect((await call(server, token, 'PUT', '/api/settings/mail.port', { value: 2727 })).status).toBe(200);
    expect(await target.query(`select count(*)::int as notes from notes_notes`)).toEqual([{ notes: EXTRA_NOTES + 3 }]);
    expect(await target.query(`select value from global_settings where key = 'mail.port'`)).toEqual([{ value: 2727 }]);
    // A change made in the database reaches the server through LISTEN on the new database.
    await target.query(`update global_settings set value = '2828' where key = 'mail.port'`);
    await target.query(`select pg_notify('groundwork_settings', 'mail.port')`);
    await expect.poll(async () => (await call(server!, token, 'GET', '/api/settings/mail.port')).body.value).toBe(2828);
    expect((await call(server, token, 'GET', '/api/settings/mail.password')).body).toMatchObject({ is_set: true });

    expect(await server.stop()).toBe(0);
    server = null;
    // A fresh start on PostgreSQL with the same key: the secret still decrypts.
    const t = await startApp(env, { dataDir: folder.path });
    try {
      expect(t.app.settings.get('mail.password')).toBe(SECRET_VALUE);
    } finally {
      await t.close();
    }
  });
});
