import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../../test/helpers/postgres.ts';
import { freePort, TcpProxy } from '../../../../test/helpers/tcp-proxy.ts';
import { tempDir } from '../../../../test/helpers/temp.ts';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp } from '../../../../test/helpers/app.ts';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { openDriver, type DatabaseDriver } from '../../src/db/drivers/index.ts';

const silent = pino({ level: 'silent' });

/** This database's client connections (the test's own query excepted), by application name. */
async function connections(db: TestDatabase): Promise<Array<{ pid: number; name: string }>> {
  const rows = await db.query(
    'select pid, application_name as name from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() order by application_name',
  );
  return rows as Array<{ pid: number; name: string }>;
}

describe('a setup opening PostgreSQL (forSetup)', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function open(env: Record<string, string> = {}): Promise<{ db: TestDatabase; driver: DatabaseDriver }> {
    const db = await createTestDatabase();
    const folder = tempDir();
    cleanups.push(() => folder.remove(), () => db.drop());
    const driver = await openDriver('postgresql', loadConfig({ ...db.env, ...env, PERSISTENT_DATA_DIR: folder.path }), silent, { forSetup: true });
    // A test may have closed it already.
    cleanups.push(() => driver.close().catch(() => {}));
    return { db, driver };
  }

  it('opens its schema session and LISTEN connection while connecting, probes on them, and uses them for its work', async () => {
    const { db, driver } = await open();
    expect(driver.changeFeed).toBe('listen');
    // The probe needed no connections of its own: the pool's, the schema session and the LISTEN one.
    const opened = await connections(db);
    expect(opened.map((row) => row.name)).toEqual(['groundwork', 'groundwork-listen', 'groundwork-schema']);

    const session = await driver.schemaTransaction();
    const result = (await session.db.execute(sql`select pg_backend_pid() as pid`)) as unknown as { rows: Array<{ pid: number }> };
    const pid = result.rows[0]!.pid;
    expect(pid).toBe(opened.find((row) => row.name === 'groundwork-schema')!.pid);
    await session.commit();
    await driver.listen('groundwork_test', () => {});
    const listening = await db.query("select pid from pg_stat_activity where datname = current_database() and application_name = 'groundwork-listen'");
    expect(listening).toEqual([{ pid: opened.find((row) => row.name === 'groundwork-listen')!.pid }]);
  });

  it('ends the sessions it did not hand out when it closes', async () => {
    const { db, driver } = await open();
    await driver.close();
    await expect.poll(() => connections(db), { timeout: 5_000 }).toEqual([]);
  });

  it('through a TCP proxy (the server sees the proxy, not this process) still finds a direct connection, by the full probe', async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const proxy = new TcpProxy(await freePort(), Number(db.env.POSTGRES_PORT));
    await proxy.start();
    cleanups.push(() => proxy.stop());
    const folder = tempDir();
    cleanups.push(() => folder.remove());
    const driver = await openDriver('postgresql', loadConfig({ ...db.env, POSTGRES_HOST: '127.0.0.1', POSTGRES_PORT: String(proxy.port), PERSISTENT_DATA_DIR: folder.path }), silent, { forSetup: true });
    cleanups.push(() => driver.close());
    expect(driver.changeFeed).toBe('listen');
  });
});

describe('a boot of an instance set up on PostgreSQL, connecting ahead (before the server listens)', () => {
  it('opens the connection before boot starts, boot runs its phases on it, and a shutdown before boot closes it', async () => {
    const db = await createTestDatabase();
    const folder = tempDir();
    try {
      const first = await startApp(db.env, { dataDir: folder.path });
      await setUpWithAdmin(first, 'postgresql');
      await first.close();
      await expect.poll(() => connections(db), { timeout: 5_000 }).toEqual([]);

      const config = loadConfig({ ...db.env, PERSISTENT_DATA_DIR: folder.path, LOG_LEVEL: 'silent' });
      const app = await buildApp(config, { frontendDistDir: '/nonexistent' });
      app.boot.connectAhead();
      await expect.poll(async () => (await connections(db)).map((row) => row.name), { timeout: 10_000 }).toEqual(['groundwork', 'groundwork-listen', 'groundwork-schema']);
      const opened = await connections(db);
      await app.boot.start('http://localhost:0');
      expect(app.setupStatus.snapshot().state).toBe('ready');
      // The boot used the connections opened ahead: the pool's and the LISTEN one stay, the schema session ended at commit.
      const kept = opened.filter((row) => row.name !== 'groundwork-schema');
      expect(await connections(db)).toEqual(kept);
      await app.close();

      const unused = await buildApp(config, { frontendDistDir: '/nonexistent' });
      unused.boot.connectAhead();
      await expect.poll(async () => (await connections(db)).length, { timeout: 10_000 }).toBe(3);
      await unused.close();
      await expect.poll(() => connections(db), { timeout: 5_000 }).toEqual([]);
    } finally {
      await db.drop();
      folder.remove();
    }
  });
});
