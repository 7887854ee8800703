import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { expectSecretReadsBack, instanceWithData, runMove, selectedType, USER_TABLES_SQL } from '../helpers/move.ts';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/temp.ts';

async function call(server: ServerProcess, token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** The real server on the moved instance: ready on `type`, the same admin token, every row, the next id. */
async function expectServedFrom(env: Record<string, string>, type: string, token: string, notesBefore: number, whileRunning?: () => Promise<void>) {
  const server = await spawnServer(env);
  try {
    expect(await server.waitForStatus((status) => status.state === 'ready' || status.state === 'error')).toMatchObject({ state: 'ready', type });
    const notes = await call(server, token, 'GET', '/api/plugins/notes/');
    expect(notes.status).toBe(200);
    expect(notes.body.map((note: { id: number }) => note.id).sort()).toEqual(Array.from({ length: notesBefore }, (_, i) => i + 1));
    expect((await call(server, token, 'GET', '/api/settings/mail.password')).body).toMatchObject({ is_set: true });
    const created = await call(server, token, 'POST', '/api/plugins/notes/', { title: `written on ${type}` });
    expect(created).toMatchObject({ status: 201, body: { id: notesBefore + 1 } });
    await whileRunning?.();
  } finally {
    await server.stop();
  }
}

describe('npm run db:move with the server stopped', () => {
  let target: TestDatabase;
  let folder: ReturnType<typeof tempDir>;
  let env: Record<string, string>;
  beforeEach(async () => {
    target = await createTestDatabase();
    folder = tempDir();
    env = { ...target.env, PERSISTENT_DATA_DIR: folder.path };
  });
  afterEach(async () => {
    await target.drop();
    folder.remove();
  });

  it('moves a PGlite instance to PostgreSQL and back: every row, the same admin token, secrets that decrypt, next ids', async () => {
    const token = await instanceWithData(env, folder.path, 'pglite');

    // Refused, changing nothing: no PostgreSQL in the environment; a target that is not empty.
    const noServer = await runMove({ PERSISTENT_DATA_DIR: folder.path }, ['--to', 'postgresql']);
    expect(noServer).toMatchObject({ code: 1, stderr: expect.stringMatching(/No PostgreSQL server in the environment: set DATABASE_URL/) });
    const occupied = await createTestDatabase();
    try {
      await occupied.query('create table customer_data (id int)');
      const refused = await runMove({ ...env, ...occupied.env }, ['--to', 'postgresql']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/is not empty: it has 1 table\(s\) \(public\.customer_data\)/);
      expect(await occupied.query(USER_TABLES_SQL)).toEqual([{ name: 'public.customer_data' }]);
    } finally {
      await occupied.drop();
    }
    expect(selectedType(folder.path)).toBe('pglite');

    const moved = await runMove(env, ['--to', 'postgresql']);
    expect(moved).toMatchObject({ code: 0, stderr: '' });
    const kept = readdirSync(folder.path).find((name) => name.startsWith('pglite.moved-'));
    expect(kept).toMatch(/^pglite\.moved-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/);
    expect(moved.stdout).toContain(`kept in ${join(folder.path, kept!)}`);
    expect(existsSync(join(folder.path, kept!, 'PG_VERSION'))).toBe(true);
    expect(existsSync(join(folder.path, 'pglite'))).toBe(false);
    expect(selectedType(folder.path)).toBe('postgresql');

    await expectServedFrom(env, 'postgresql', token, 2, async () => {
      // A server is connected that this command cannot ask to move itself (its control socket is
      // gone; test/processes/running-server.test.ts covers the move it does): the move back
      // refuses and leaves no folder behind.
      await expect.poll(() => existsSync(join(folder.path, 'control.sock'))).toBe(true);
      rmSync(join(folder.path, 'control.sock'));
      const busy = await runMove(env, ['--to', 'pglite']);
      expect(busy).toMatchObject({ code: 1, stderr: expect.stringMatching(/1 running Groundwork server\(s\) use this instance's database/) });
      expect(existsSync(join(folder.path, 'pglite'))).toBe(false);
    });
    await expectSecretReadsBack(env, folder.path);
    expect(await target.query(`select database_type from setup_record`)).toEqual([{ database_type: 'pglite' }]);

    // Back to PGlite: a folder already in the way is refused, named.
    mkdirSync(join(folder.path, 'pglite'), { mode: 0o700 });
    writeFileSync(join(folder.path, 'pglite', 'something'), '');
    expect((await runMove(env, ['--to', 'pglite'])).stderr).toMatch(/pglite is not empty \(something\)/);
    rmSync(join(folder.path, 'pglite'), { recursive: true });

    const back = await runMove(env, ['--to', 'pglite']);
    expect(back).toMatchObject({ code: 0, stderr: '' });
    expect(back.stdout).toMatch(/The PostgreSQL database at .+ is left as it is/);
    expect(selectedType(folder.path)).toBe('pglite');
    expect(readdirSync(join(folder.path, 'pglite'))).not.toContain('groundwork-move-incomplete');
    expect(await target.query(`select count(*)::int as notes from notes_notes`)).toEqual([{ notes: 3 }]);

    await expectServedFrom(env, 'pglite', token, 3, async () => {
      // The embedded database is in use (and its server's control socket gone): the lock file refuses a move.
      await expect.poll(() => existsSync(join(folder.path, 'control.sock'))).toBe(true);
      rmSync(join(folder.path, 'control.sock'));
      expect((await runMove(env, ['--to', 'postgresql'])).stderr).toMatch(/in use by another Groundwork process/);
    });
    await expectSecretReadsBack(env, folder.path);
  });
});
