import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { freePort, TcpProxy } from '../helpers/tcp-proxy.ts';
import { SETUP_PHASE_NAMES } from '../../services/backend/src/schemas/database.ts';

describe('PostgreSQL goes away in the middle of a setup', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let t: TestApp;
  beforeEach(async () => {
    db = await createTestDatabase();
    // 20 ms each way per chunk: the phases take long enough to cut the connection inside one.
    proxy = new TcpProxy(await freePort(), Number(db.env.POSTGRES_PORT), 20);
    await proxy.start();
    t = await startApp({ ...db.env, POSTGRES_PORT: String(proxy.port) });
  });
  afterEach(async () => {
    await t.close();
    await proxy.stop();
    await db.drop();
  });

  it.each(['migrate', 'settings', 'plugins'] as const)('during %s: 503 naming host:port, nothing written; the retry succeeds', async (phase) => {
    const setup = t.setUp('postgresql');
    const deadline = Date.now() + 30_000;
    while (t.app.setupStatus.snapshot().phase !== phase && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    expect(t.app.setupStatus.snapshot().phase).toBe(phase);
    await proxy.stop();

    const response = await setup;
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ error: 'database_unavailable', message: expect.stringContaining(`127.0.0.1:${proxy.port}`), phase: expect.any(String) });
    // The phase that noticed: the one it stopped in, or a later one if that had just finished.
    expect(SETUP_PHASE_NAMES.indexOf(response.json().phase)).toBeGreaterThanOrEqual(SETUP_PHASE_NAMES.indexOf(phase));
    expect(response.body).not.toContain(db.env.POSTGRES_PASSWORD);
    expect(existsSync(join(t.dataDir, 'db.selection.json'))).toBe(false);
    expect(t.app.setupStatus.snapshot()).toMatchObject({ state: 'unconfigured', configured: false });

    await proxy.start();
    const retry = await t.setUp('postgresql');
    expect(retry.statusCode).toBe(200);
    expect(t.app.setupStatus.snapshot().state).toBe('ready');
    expect(await db.query('select count(*)::int as n from setup_record')).toEqual([{ n: 1 }]);
  });
});
