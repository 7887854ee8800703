import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/temp.ts';
import { MIGRATION_TAGS } from '../helpers/migrations.ts';

describe('headless setup (DB_TYPE) of several processes on one empty PostgreSQL', () => {
  const folders = [tempDir(), tempDir(), tempDir()];
  const initial = folders.length;
  let db: TestDatabase;
  let servers: ServerProcess[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((server) => server.stop('SIGKILL')));
    await db.drop();
    folders.forEach((folder) => folder.remove());
  });

  it('brings all three to ready and migrates and seeds exactly once', async () => {
    db = await createTestDatabase();
    servers = await Promise.all(folders.slice(0, initial).map((folder) => spawnServer({ PERSISTENT_DATA_DIR: folder.path, DB_TYPE: 'postgresql', ENCRYPTION_SECRET: 'replicas-share-this-encryption-secret', ...db.env })));
    for (const server of servers) {
      expect(await server.waitForStatus((status) => status.state === 'ready' || status.error !== undefined)).toMatchObject({
        state: 'ready',
        type: 'postgresql',
        configured: true,
      });
    }
    expect(await db.query('select count(*)::int as n from drizzle.__drizzle_migrations')).toEqual([{ n: MIGRATION_TAGS.length }]);
    expect(await db.query('select database_type from setup_record')).toEqual([{ database_type: 'postgresql' }]);
    expect(await db.query('select count(*)::int as n from settings_encryption')).toEqual([{ n: 1 }]);
    // Seeding ran once: no replica rewrote a row another one had written.
    expect(await db.query('select count(distinct updated_at)::int as n from global_settings')).toEqual([{ n: 1 }]);
    // Headless setup shows no admin token to anyone, so it makes none.
    expect(await db.query('select count(*)::int as n from admin_tokens')).toEqual([{ n: 0 }]);

    // A replica started later joins without doing the work again: nothing in the database changes.
    const state = () =>
      db.query(`select (select json_agg(m order by id) from drizzle.__drizzle_migrations m) as migrations,
                       (select max(updated_at) from global_settings) as settings,
                       (select json_agg(p order by plugin_id) from plugin_schemas p) as plugins`);
    const before = await state();
    const late = tempDir();
    folders.push(late);
    const joiner = await spawnServer({ PERSISTENT_DATA_DIR: late.path, DB_TYPE: 'postgresql', ENCRYPTION_SECRET: 'replicas-share-this-encryption-secret', ...db.env });
    servers.push(joiner);
    expect(await joiner.waitForStatus((status) => status.state === 'ready' || status.error !== undefined)).toMatchObject({ state: 'ready' });
    expect(await state()).toEqual(before);
    expect(joiner.logs.join('\n')).not.toMatch(/tables brought up to date/);
    // Headless setup needs no token, so none is written or logged.
    for (const [index, server] of servers.slice(0, initial).entries()) {
      expect(server.logs.join('\n')).not.toContain('setup?token=');
      expect(existsSync(`${folders[index]!.path}/setup-token`)).toBe(false);
      expect(existsSync(`${folders[index]!.path}/db.selection.json`)).toBe(true);
    }
  });
});
