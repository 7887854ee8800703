import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { freePort, TcpProxy } from '../helpers/tcp-proxy.ts';
import { tempDir } from '../helpers/temp.ts';

const SETUP_TOKEN = 'headless-retry-test-setup-token-42';

describe('headless setup (DB_TYPE=postgresql) started before PostgreSQL is reachable', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let data: ReturnType<typeof tempDir>;
  let server: ServerProcess | undefined;
  beforeEach(async () => {
    db = await createTestDatabase();
    // The server's only way to PostgreSQL; not listening yet, as when the app container starts first.
    proxy = new TcpProxy(await freePort(), Number(db.env.POSTGRES_PORT));
    data = tempDir();
  });
  afterEach(async () => {
    await server?.stop('SIGKILL');
    await proxy.stop();
    await db.drop();
    data.remove();
  });

  it('keeps retrying with a growing delay, then sets itself up once PostgreSQL answers', async () => {
    server = await spawnServer({
      ...db.env,
      POSTGRES_PORT: String(proxy.port),
      PERSISTENT_DATA_DIR: data.path,
      DB_TYPE: 'postgresql',
      ENCRYPTION_SECRET: 'headless-retry-test-secret-0123456789',
      SETUP_TOKEN: SETUP_TOKEN,
    });
    // The setup token (before setup) gets the detail: where the database is. Strangers do not.
    const withToken = { 'x-setup-token': SETUP_TOKEN };
    const first = await server.waitForStatus((status) => /Retrying in 1 s/.test(status.error ?? ''), 30_000, withToken);
    expect(first).toMatchObject({ state: 'unconfigured', detail: expect.stringContaining(`127.0.0.1:${proxy.port}`) });
    expect(first.error).not.toContain(`${proxy.port}`);
    expect(JSON.stringify(first)).not.toContain(db.env.POSTGRES_PASSWORD);
    await server.waitForStatus((status) => /Retrying in 2 s/.test(status.error ?? ''), 30_000);
    expect(existsSync(join(data.path, 'db.selection.json'))).toBe(false);

    await proxy.start();
    const ready = await server.waitForStatus((status) => status.state === 'ready', 60_000);
    expect(ready).toMatchObject({ configured: true, type: 'postgresql' });
    expect(existsSync(join(data.path, 'db.selection.json'))).toBe(true);
    expect(await db.query('select count(*)::int as n from setup_record')).toEqual([{ n: 1 }]);
    expect((await server.get('/api/health/ready')).status).toBe(200);
  });
});
