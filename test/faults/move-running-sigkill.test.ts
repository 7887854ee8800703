import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { instanceWithData, runMove, selectedType, USER_TABLES_SQL } from '../helpers/move.ts';
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

describe('a move inside the running server, and the server killed in the middle of it', () => {
  let target: TestDatabase;
  let folder: ReturnType<typeof tempDir>;
  let env: Record<string, string>;
  const servers: ServerProcess[] = [];
  beforeEach(async () => {
    target = await createTestDatabase();
    folder = tempDir();
    env = { ...target.env, PERSISTENT_DATA_DIR: folder.path };
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop('SIGKILL');
    await target.drop();
    folder.remove();
  });

  async function start(extra: Record<string, string> = {}): Promise<ServerProcess> {
    const server = await spawnServer({ ...env, ...extra });
    servers.push(server);
    await server.waitForStatus((status) => status.state === 'ready' || status.state === 'error');
    await expect.poll(() => existsSync(join(folder.path, 'control.sock'))).toBe(true);
    return server;
  }

  it('SIGKILL while copying: restarted on the old PGlite with nothing lost, the target empty; the move then runs, and back', async () => {
    const token = await instanceWithData(env, folder.path, 'pglite');
    const paused = await start({ GROUNDWORK_MOVE_PAUSE_AT: 'copying' });
    const moving = runMove({ PERSISTENT_DATA_DIR: folder.path }, ['--to', 'postgresql']);
    await paused.waitForStatus((status) => status.maintenance?.stage === 'copying', 60_000);
    await paused.stop('SIGKILL');
    const cut = await moving;
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(/stopped answering before the command finished/);

    expect(selectedType(folder.path)).toBe('pglite');
    expect(await target.query(USER_TABLES_SQL)).toEqual([]);
    // The socket file the killed server left is replaced by the next one.
    const server = await start();
    expect(await server.waitForStatus((status) => status.state === 'ready')).toMatchObject({ type: 'pglite' });
    expect((await call(server, token, 'GET', '/api/plugins/notes/')).body.map((note: { title: string }) => note.title)).toEqual(['second', 'first']);

    const moved = await runMove({ PERSISTENT_DATA_DIR: folder.path }, ['--to', 'postgresql']);
    expect(moved).toMatchObject({ code: 0, stderr: '' });
    expect(await server.waitForStatus((status) => status.state === 'ready')).toMatchObject({ type: 'postgresql' });
    expect((await call(server, token, 'POST', '/api/plugins/notes/', { title: 'third' })).body).toMatchObject({ id: 3 });

    // And back, still without a restart: PostgreSQL → a new PGlite folder.
    const back = await runMove({ PERSISTENT_DATA_DIR: folder.path }, ['--to', 'pglite']);
    expect(back).toMatchObject({ code: 0, stderr: '' });
    expect(await server.waitForStatus((status) => status.state === 'ready')).toMatchObject({ type: 'pglite' });
    expect(selectedType(folder.path)).toBe('pglite');
    expect(readdirSync(join(folder.path, 'pglite'))).not.toContain('groundwork-move-incomplete');
    expect((await call(server, token, 'POST', '/api/plugins/notes/', { title: 'fourth' })).body).toMatchObject({ id: 4 });
    expect(servers.every((each) => each === server || each.child.exitCode !== null || each.child.signalCode !== null)).toBe(true);
  });

  it('a target that is not empty: refused, the server back to ready on its database with the reason in status', async () => {
    const token = await instanceWithData(env, folder.path, 'pglite');
    await target.query('create table customer_data (id int)');
    const server = await start();
    const refused = await runMove({ PERSISTENT_DATA_DIR: folder.path }, ['--to', 'postgresql']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/The move to postgresql failed, this instance stays on pglite: .*is not empty: it has 1 table\(s\) \(public\.customer_data\)/);
    const status = (await call(server, token, 'GET', '/api/db/status')).body;
    expect(status).toMatchObject({ state: 'ready', type: 'pglite', error: expect.stringMatching(/move .* failed/), detail: expect.stringMatching(/customer_data/) });
    expect((await server.get('/api/db/status')).body).not.toHaveProperty('detail');
    expect((await call(server, token, 'POST', '/api/plugins/notes/', { title: 'still writable' })).status).toBe(201);
    expect(await target.query(USER_TABLES_SQL)).toEqual([{ name: 'public.customer_data' }]);
    expect(selectedType(folder.path)).toBe('pglite');
  });
  it('SIGTERM while copying: the move stops and rolls back, the server exits cleanly, the instance stays on PGlite', async () => {
    await instanceWithData(env, folder.path, 'pglite');
    const paused = await start({ GROUNDWORK_MOVE_PAUSE_AT: 'copying' });
    const moving = runMove({ PERSISTENT_DATA_DIR: folder.path }, ['--to', 'postgresql']);
    await paused.waitForStatus((status) => status.maintenance?.stage === 'copying', 60_000);
    expect(await paused.stop('SIGTERM')).toBe(0);
    const stopped = await moving;
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/The move to postgresql failed, this instance stays on pglite: The server is shutting down/);
    expect(selectedType(folder.path)).toBe('pglite');
    expect(await target.query(USER_TABLES_SQL)).toEqual([]);
    expect(existsSync(join(folder.path, 'control.sock'))).toBe(false);
  });
});
