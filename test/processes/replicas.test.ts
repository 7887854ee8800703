import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/temp.ts';
import { MIGRATION_TAGS } from '../helpers/migrations.ts';

describe('headless setup (DB_TYPE) of several processes on one empty PostgreSQL', () => {
  const folders = [tempDir(), tempDir(), tempDir()];
  let db: TestDatabase;
  let servers: ServerProcess[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((server) => server.stop('SIGKILL')));
    await db.drop();
    folders.forEach((folder) => folder.remove());
  });

  it('brings all three to ready and migrates exactly once', async () => {
    db = await createTestDatabase();
    servers = await Promise.all(folders.map((folder) => spawnServer({ PERSISTENT_DATA_DIR: folder.path, DB_TYPE: 'postgresql', ...db.env })));
    for (const server of servers) {
      expect(await server.waitForStatus((status) => status.state !== 'setting_up' && status.state !== 'unconfigured')).toMatchObject({
        state: 'ready',
        type: 'postgresql',
        configured: true,
      });
    }
    expect(await db.query('select count(*)::int as n from drizzle.__drizzle_migrations')).toEqual([{ n: MIGRATION_TAGS.length }]);
    expect(await db.query('select database_type from setup_record')).toEqual([{ database_type: 'postgresql' }]);
    // Headless setup needs no token, so none is written or logged.
    for (const [index, server] of servers.entries()) {
      expect(server.logs.join('\n')).not.toContain('setup?token=');
      expect(existsSync(`${folders[index]!.path}/setup-token`)).toBe(false);
      expect(existsSync(`${folders[index]!.path}/db.selection.json`)).toBe(true);
    }
  });
});
