import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callRunningServer } from '../../src/control/client.ts';
import { startControlChannel, type ControlChannel } from '../../src/control/index.ts';
import type { ControlEvent } from '../../src/control/protocol.ts';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../../../../test/helpers/postgres.ts';
import { tempDir } from '../../../../test/helpers/temp.ts';

async function collect(events: AsyncGenerator<ControlEvent> | null): Promise<ControlEvent[]> {
  if (!events) throw new Error('No server answered on the control socket');
  const all: ControlEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

describe('the control channel, in process', () => {
  let folder: ReturnType<typeof tempDir>;
  let database: TestDatabase;
  let t: TestApp;
  let control: ControlChannel | null;
  beforeEach(async () => {
    folder = tempDir();
    database = await createTestDatabase();
    t = await startApp({ ...database.env }, { dataDir: folder.path });
  });
  afterEach(async () => {
    await control?.close();
    await t.close();
    await database.drop();
    folder.remove();
  });

  it('backs up the open PGlite, moves it to PostgreSQL and the app goes on there', async () => {
    const admin = await setUpWithAdmin(t, 'pglite');
    expect((await admin.call('POST', '/api/plugins/notes/', { title: 'before' })).statusCode).toBe(201);
    // (A socket file left by a killed server is replaced: test/faults/move-running-sigkill.test.ts.)
    control = await startControlChannel(t.app);
    expect(control).not.toBeNull();
    expect(statSync(join(folder.path, 'control.sock')).mode & 0o777).toBe(0o600);

    const backup = await collect(await callRunningServer(folder.path, 'backup'));
    expect(backup[0]).toMatchObject({ type: 'manifest', manifest: { databaseType: 'pglite' } });
    const sql = backup.flatMap((event) => (event.type === 'sql' ? [event.chunk] : [])).join('');
    expect(sql).toMatch(/^-- Groundwork backup/);
    expect(sql).toContain("'before'");

    await expect(collect(await callRunningServer(folder.path, 'move', { to: 'mysql' }))).rejects.toThrow(/Say where to move/);
    await expect(collect(await callRunningServer(folder.path, 'nothing'))).rejects.toThrow(/No such command/);

    const moved = await collect(await callRunningServer(folder.path, 'move', { to: 'postgresql' }));
    expect(moved.map((event) => (event.type === 'log' ? event.message : '')).join('\n')).toMatch(/Copied and verified \d+ row\(s\)[\s\S]*no restart needed/);
    expect(t.app.setupStatus.snapshot()).toMatchObject({ state: 'ready', type: 'postgresql' });
    expect(t.app.activeDatabase.current?.type).toBe('postgresql');
    expect(readdirSync(folder.path).some((name) => name.startsWith('pglite.moved-'))).toBe(true);
    expect((await admin.call('POST', '/api/plugins/notes/', { title: 'after' })).json()).toMatchObject({ id: 2 });
    expect(await database.query('select title from notes_notes order by id')).toEqual([{ title: 'before' }, { title: 'after' }]);

    // Nothing to do the second time.
    const again = await collect(await callRunningServer(folder.path, 'move', { to: 'postgresql' }));
    expect(again).toEqual([{ type: 'log', message: 'This instance already uses postgresql: nothing to move.' }]);

    await control!.close();
    control = null;
    expect(existsSync(join(folder.path, 'control.sock'))).toBe(false);
    expect(await callRunningServer(folder.path, 'backup')).toBeNull();
  });

  it('refuses a move while the instance is not set up', async () => {
    control = await startControlChannel(t.app);
    await expect(collect(await callRunningServer(folder.path, 'move', { to: 'postgresql' }))).rejects.toThrow(/The server is unconfigured: a move starts only from ready/);
    await expect(collect(await callRunningServer(folder.path, 'backup'))).rejects.toThrow(/The database is not ready/);
  });
});
