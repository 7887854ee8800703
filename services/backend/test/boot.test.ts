import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../../../test/helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/postgres.ts';
import { freePort, TcpProxy } from '../../../test/helpers/tcp-proxy.ts';
import { tempDir } from '../../../test/helpers/temp.ts';
import { MIGRATION_TAGS } from '../../../test/helpers/migrations.ts';

describe('boot with a selection file', () => {
  let t: TestApp | undefined;
  let db: TestDatabase | undefined;
  const folder = tempDir();
  afterEach(async () => {
    await t?.close();
    await db?.drop();
    folder.remove();
  });

  it('reports the outage, retries on its own and becomes ready once PostgreSQL answers', async () => {
    db = await createTestDatabase();
    const port = await freePort();
    const proxy = new TcpProxy(port, Number(db.env.POSTGRES_PORT));
    writeFileSync(join(folder.path, 'db.selection.json'), JSON.stringify({ type: 'postgresql', selectedAt: new Date().toISOString(), version: 1 }));
    try {
      t = await startApp({ ...db.env, POSTGRES_PORT: String(port) }, { dataDir: folder.path });
      const down = (await t.app.inject('/api/db/status')).json();
      expect(down).toMatchObject({ configured: true, initialized: false, type: 'postgresql', state: 'error' });
      // Where the database is stays out of the public answer; the log and token holders get it.
      expect(down.error).toBe('The database cannot be reached; the server log has the details. Retrying in 1 s.');
      expect(t.app.setupStatus.snapshot(true).detail).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}.*Retrying in 1 s`));
      expect((await t.app.inject('/api/db/setup')).statusCode).toBe(404);
      expect((await t.setUp('postgresql')).json().error).toBe('already_configured');

      await proxy.start();
      const deadline = Date.now() + 10_000;
      while (t.app.setupStatus.snapshot().state !== 'ready' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(t.app.setupStatus.snapshot()).toEqual({ configured: true, initialized: true, dialect: 'postgresql', type: 'postgresql', state: 'ready' });
      expect(await db.query('select count(*)::int as n from drizzle.__drizzle_migrations')).toEqual([{ n: MIGRATION_TAGS.length }]);
    } finally {
      await t?.close();
      t = undefined;
      await proxy.stop();
    }
  });

  it('asks for TLS when POSTGRES_SSL=true (the test server has none, so it says so and keeps checking)', async () => {
    db = await createTestDatabase();
    t = await startApp({ ...db.env, POSTGRES_SSL: 'true' });
    // It cannot tell whether that database is set up, so it offers no setup until it can.
    expect(t.app.setupStatus.snapshot(true)).toMatchObject({ state: 'setting_up', detail: expect.stringMatching(/does not support SSL/) });
    expect((await t.setUp('postgresql')).statusCode).toBe(409);
  });
});
