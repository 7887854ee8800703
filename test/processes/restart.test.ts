import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/temp.ts';
import { MIGRATION_TAGS } from '../helpers/migrations.ts';

const MIGRATIONS_SQL = 'select id, hash, created_at::text from drizzle.__drizzle_migrations order by id';

describe.each(['pglite', 'postgresql'] as const)('a %s server set up through HTTP, then restarted', (type) => {
  const folder = tempDir();
  let db: TestDatabase | null = null;
  let server: ServerProcess | null = null;
  afterEach(async () => {
    await server?.stop('SIGKILL');
    await db?.drop();
    folder.remove();
  });

  it('logs a setup link, sets up, exits 0 on SIGTERM and comes back ready without re-applying migrations', async () => {
    db = type === 'postgresql' ? await createTestDatabase() : null;
    const env = { PERSISTENT_DATA_DIR: folder.path, ...db?.env };
    server = await spawnServer(env);
    // The link is logged once the token file is written (after checking whether the database was set up elsewhere).
    await server.waitForLog(/setup\?token=/);

    // A generated token: in a 0600 file and in the logged link, never in an answer.
    const tokenFile = join(folder.path, 'setup-token');
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(server.logs.join('\n')).toContain(`${server.url}/setup?token=${token}`);

    const setup = await server.post('/api/db/setup', { type }, { 'x-setup-token': token });
    expect(setup).toEqual({
      status: 200,
      body: { message: expect.any(String), restart_required: false, database_type: type, admin_token: expect.stringMatching(/^gwa_/) },
    });
    expect(existsSync(tokenFile)).toBe(false);
    const rowsBefore = await db?.query(MIGRATIONS_SQL);

    expect(await server.stop('SIGTERM')).toBe(0);
    expect(existsSync(join(folder.path, 'pglite', 'groundwork.lock'))).toBe(false);

    server = await spawnServer(env);
    const status = await server.waitForStatus((s) => s.state === 'ready');
    expect(status).toEqual({ configured: true, initialized: true, dialect: 'postgresql', type, state: 'ready' });
    expect(existsSync(tokenFile)).toBe(false);
    expect(server.logs.join('\n')).not.toContain('setup?token=');
    expect((await server.get('/api/db/migrations')).body).toEqual({ applied: MIGRATION_TAGS, pending: [], unknown: [], schema: 'current' });
    // The same single row: boot found nothing pending and applied nothing.
    if (db) expect(await db.query(MIGRATIONS_SQL)).toEqual(rowsBefore);
  });
});
