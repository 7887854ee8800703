import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../../../../test/helpers/postgres.ts';
import { freePort, TcpProxy } from '../../../../test/helpers/tcp-proxy.ts';

describe('GET /api/health and /api/health/ready', () => {
  let t: TestApp | undefined;
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    await db?.drop();
    t = db = undefined;
  });

  it('is live but not ready while unconfigured', async () => {
    t = await startApp();
    expect((await t.app.inject('/api/health')).json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject('/api/health/ready');
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ error: 'database_not_ready', message: 'The database is unconfigured.' });
    // One code for "not ready": the same as every other route answers then.
    expect((await t.app.inject('/api/db/migrations')).json().error).toBe('database_not_ready');
  });

  it('is ready once set up, and not ready while PostgreSQL is unreachable', async () => {
    db = await createTestDatabase();
    const port = await freePort();
    const proxy = new TcpProxy(port, Number(db.env.POSTGRES_PORT));
    await proxy.start();
    t = await startApp({ ...db.env, POSTGRES_PORT: String(port) });
    try {
      expect((await t.setUp('postgresql')).statusCode).toBe(200);
      expect((await t.app.inject('/api/health/ready')).json()).toEqual({ status: 'ready' });

      await proxy.stop();
      // The last good answer is cached for at most 2 s.
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      const down = await t.app.inject('/api/health/ready');
      expect(down.statusCode).toBe(503);
      expect(down.json().error).toBe('database_not_ready');
      expect((await t.app.inject('/api/health')).statusCode).toBe(200);

      await proxy.start();
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      expect((await t.app.inject('/api/health/ready')).statusCode).toBe(200);
    } finally {
      await proxy.stop();
    }
  });
});
