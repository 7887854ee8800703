import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../../../../test/helpers/postgres.ts';
import { tempDir } from '../../../../test/helpers/temp.ts';
import { DEFAULT_TEMPLATE_SOURCE, ensurePgliteTemplate } from '../../src/db/drivers/pglite-template.ts';

const staged = (t: { dataDir: string }) => join(t.dataDir, 'pglite.staged');
const modeOf = (path: string) => statSync(path).mode & 0o777;

async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every folder 0700 and every file 0600 under `root`. */
function modesUnder(root: string): Set<string> {
  const modes = new Set<string>();
  const walk = (folder: string) => {
    modes.add(`folder ${modeOf(folder).toString(8)}`);
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(folder, entry.name));
      else modes.add(`file ${modeOf(join(folder, entry.name)).toString(8)}`);
    }
  };
  walk(root);
  return modes;
}

/** What an earlier process stopped midway could leave: part of a copy, without PG_VERSION, and a file of its own. */
async function leaveStaleStagedCopy(dataDir: string): Promise<string> {
  const path = join(dataDir, 'pglite.staged');
  cpSync(await ensurePgliteTemplate(DEFAULT_TEMPLATE_SOURCE), path, { recursive: true, filter: (source) => !source.endsWith('PG_VERSION') });
  writeFileSync(join(path, 'left-behind'), 'not from this process');
  return path;
}

describe('a PGlite setup prepared while the server waits for the wizard', () => {
  const apps: TestApp[] = [];
  const databases: TestDatabase[] = [];
  afterEach(async () => {
    for (const t of apps.splice(0)) await t.close();
    for (const db of databases.splice(0)) await db.drop();
  });

  it('copies and starts the database beside the instance, and the setup moves it into place, where it keeps its data', async () => {
    const folder = tempDir();
    try {
      const t = await startApp({}, { dataDir: folder.path });
      await until(() => existsSync(join(staged(t), 'PG_VERSION')), 'the copy is complete');
      // Private from the start: what keeps other users out is the 0700 folder, its copies are 0600.
      expect(modeOf(staged(t))).toBe(0o700);
      expect([modeOf(join(staged(t), 'base')), modeOf(join(staged(t), 'PG_VERSION'))]).toEqual([0o700, 0o600]);
      // Nothing in the instance's own folder until a setup chooses PGlite.
      expect(existsSync(join(t.dataDir, 'pglite'))).toBe(false);

      expect((await t.setUp('pglite')).statusCode).toBe(200);
      expect(t.logs.some((line) => line.includes('Created the embedded database') && line.includes('"prepared":true'))).toBe(true);
      expect(existsSync(staged(t))).toBe(false);
      expect(modesUnder(join(t.dataDir, 'pglite'))).toEqual(new Set(['folder 700', 'file 600']));
      const pg = t.app.activeDatabase.current!.pglite!;
      expect((await pg.query<{ count: number }>('select count(*)::int as count from setup_record')).rows).toEqual([{ count: 1 }]);
      // Written after the move: new files and those PGlite had open before it both land in the instance's folder.
      await pg.query(`create table moved_check (note text)`);
      await pg.query(`insert into notes_notes (title) values ('after the move')`);
      await t.app.close();
      expect(existsSync(staged(t))).toBe(false);

      const again = await startApp({}, { dataDir: folder.path });
      try {
        await until(() => again.app.setupStatus.isReady(), 'the instance boots');
        const reopened = again.app.activeDatabase.current!.pglite!;
        expect((await reopened.query('select title from notes_notes')).rows).toEqual([{ title: 'after the move' }]);
        expect((await reopened.query('select count(*)::int as count from moved_check')).rows).toEqual([{ count: 0 }]);
      } finally {
        await again.app.close();
      }
    } finally {
      folder.remove();
    }
  });

  it('a setup sent as soon as the server boots waits for the preparation in flight', async () => {
    const t = await startApp();
    apps.push(t);
    expect(existsSync(join(staged(t), 'PG_VERSION'))).toBe(false);
    expect((await t.setUp('pglite')).statusCode).toBe(200);
    expect(t.logs.some((line) => line.includes('"prepared":true'))).toBe(true);
    expect(existsSync(staged(t))).toBe(false);
  });

  it('never trusts a copy an earlier process left: it is removed and made again', async () => {
    const folder = tempDir();
    const stale = await leaveStaleStagedCopy(folder.path);
    const t = await startApp({}, { dataDir: folder.path });
    apps.push({ ...t, close: async () => (await t.close(), folder.remove()) });
    await until(() => existsSync(join(stale, 'PG_VERSION')), 'the copy is made again');
    expect(existsSync(join(stale, 'left-behind'))).toBe(false);
    expect((await t.setUp('pglite')).statusCode).toBe(200);
    expect(existsSync(join(t.dataDir, 'pglite', 'left-behind'))).toBe(false);
  });

  it('is dropped, not used, when the data folder is no longer safe at setup', async () => {
    const folder = tempDir();
    try {
      const t = await startApp({}, { dataDir: folder.path });
      apps.push(t);
      await until(() => existsSync(join(staged(t), 'PG_VERSION')), 'the copy is complete');
      // Others could have changed the copy meanwhile.
      chmodSync(folder.path, 0o777);
      const setup = await t.setUp('pglite');
      expect(setup.statusCode).toBe(500);
      expect(setup.json()).toMatchObject({ error: 'storage_error' });
      expect(readdirSync(folder.path)).toEqual([]);
    } finally {
      chmodSync(folder.path, 0o700);
      folder.remove();
    }
  });

  it('is removed when the server closes before any setup', async () => {
    const folder = tempDir();
    try {
      const t = await startApp({}, { dataDir: folder.path });
      await until(() => existsSync(join(staged(t), 'PG_VERSION')), 'the copy is complete');
      await t.close();
      expect(readdirSync(folder.path).filter((entry) => entry.startsWith('pglite'))).toEqual([]);
    } finally {
      folder.remove();
    }
  });

  it('is not made when PostgreSQL is configured, and a copy left behind is removed when PostgreSQL is chosen', async () => {
    const db = await createTestDatabase();
    databases.push(db);
    const folder = tempDir();
    const stale = await leaveStaleStagedCopy(folder.path);
    mkdirSync(join(folder.path, 'unrelated'));
    const t = await startApp(db.env, { dataDir: folder.path });
    apps.push({ ...t, close: async () => (await t.close(), folder.remove()) });
    // Left as it was while the wizard waits: with PostgreSQL settings, PGlite may not be the choice.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(join(stale, 'left-behind'))).toBe(true);

    expect((await t.setUp('postgresql')).statusCode).toBe(200);
    await until(() => !existsSync(stale), 'the copy left behind is removed');
    expect(existsSync(join(folder.path, 'unrelated'))).toBe(true);
    expect(existsSync(join(folder.path, 'pglite'))).toBe(false);
  });
});
