import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterEach, describe, expect, it } from 'vitest';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../../../../test/helpers/postgres.ts';
import { freePort, TcpProxy } from '../../../../test/helpers/tcp-proxy.ts';
import { tempDir } from '../../../../test/helpers/temp.ts';

const ENCRYPTION_SECRET = 'shared-replica-encryption-secret-1234';
const ACTIVE_TOKENS_SQL = 'select count(*)::int as n from admin_tokens where revoked_at is null';

/** GET /api/settings with `token`: 200 while it is the active admin token. */
const settingsWith = (t: TestApp, token: string) => t.app.inject({ url: '/api/settings', headers: { authorization: `Bearer ${token}` } });

describe('a first setup on a database that is already set up joins it and mints no admin token', () => {
  const apps: TestApp[] = [];
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((t) => t.close()));
    await db?.drop();
    db = undefined;
  });

  async function start(env: Record<string, string>, options: { dataDir?: string } = {}): Promise<TestApp> {
    const t = await startApp({ ENCRYPTION_SECRET, ...env }, options);
    apps.push(t);
    return t;
  }

  it('PostgreSQL: a replica that offered the wizard before the other set up adopts over HTTP', async () => {
    db = await createTestDatabase();
    // Both boot while the database is empty, so both wait for the wizard.
    const first = await start(db.env);
    const second = await start(db.env);
    expect(second.app.setupStatus.snapshot().state).toBe('unconfigured');
    const admin = await setUpWithAdmin(first, 'postgresql');

    const joined = await second.setUp('postgresql');
    expect(joined.statusCode).toBe(200);
    expect(joined.json()).toEqual({ message: expect.stringMatching(/joined an existing installation/), restart_required: false, database_type: 'postgresql', adopted: true });
    expect(second.app.setupStatus.snapshot()).toMatchObject({ state: 'ready', configured: true });
    expect(existsSync(join(second.dataDir, 'db.selection.json'))).toBe(true);

    // The real admin's token is still the only one, and works on both.
    expect(await db.query(ACTIVE_TOKENS_SQL)).toEqual([{ n: 1 }]);
    expect((await settingsWith(first, admin.token)).statusCode).toBe(200);
    expect((await settingsWith(second, admin.token)).statusCode).toBe(200);
  });

  it('PostgreSQL: of two first setups at the same moment, exactly one mints an admin token', async () => {
    db = await createTestDatabase();
    const [a, b] = [await start(db.env), await start(db.env)];
    const answers = (await Promise.all([a.setUp('postgresql'), b.setUp('postgresql')])).map((response) => response.json());
    expect(answers.filter((answer) => answer.admin_token)).toHaveLength(1);
    expect(answers.filter((answer) => answer.adopted === true)).toHaveLength(1);
    expect(await db.query(ACTIVE_TOKENS_SQL)).toEqual([{ n: 1 }]);
  });

  it('PGlite: a lost db.selection.json does not let setup mint a second admin token', async () => {
    const folder = tempDir();
    try {
      const first = await start({}, { dataDir: folder.path });
      const admin = await setUpWithAdmin(first, 'pglite');
      await first.app.close();
      rmSync(join(folder.path, 'db.selection.json'));

      const second = await start({}, { dataDir: folder.path });
      expect(second.app.setupStatus.snapshot().state).toBe('unconfigured');
      const joined = await second.setUp('pglite');
      expect(joined.statusCode).toBe(200);
      expect(joined.json()).toEqual({ message: expect.stringMatching(/joined an existing installation/), restart_required: false, database_type: 'pglite', adopted: true });
      expect((await settingsWith(second, admin.token)).statusCode).toBe(200);
      await second.app.close();

      const pglite = await PGlite.create(join(folder.path, 'pglite'));
      try {
        expect((await pglite.query(ACTIVE_TOKENS_SQL)).rows).toEqual([{ n: 1 }]);
      } finally {
        await pglite.close();
      }
    } finally {
      folder.remove();
    }
  });

  it('PostgreSQL down at boot: keeps probing instead of offering the wizard, then adopts', async () => {
    db = await createTestDatabase();
    const first = await start(db.env);
    const admin = await setUpWithAdmin(first, 'postgresql');

    const port = await freePort();
    const proxy = new TcpProxy(port, Number(db.env.POSTGRES_PORT));
    try {
      const replica = await start({ ...db.env, POSTGRES_PORT: String(port) });
      const probing = (await replica.app.inject('/api/db/status')).json();
      expect(probing).toMatchObject({ configured: false, initialized: false, state: 'setting_up' });
      expect(probing.error).toMatch(/cannot be reached.*Retrying in 1 s/);
      expect(replica.logs.join('')).not.toContain('setup?token=');
      expect(replica.logs.join('')).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}.*Retrying in 1 s`));
      const refused = await replica.setUp('postgresql');
      expect(refused.statusCode).toBe(409);
      expect(refused.json().error).toBe('setup_in_progress');

      await proxy.start();
      const deadline = Date.now() + 15_000;
      while (replica.app.setupStatus.snapshot().state !== 'ready' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(replica.app.setupStatus.snapshot()).toEqual({ configured: true, initialized: true, dialect: 'postgresql', type: 'postgresql', state: 'ready' });
      expect(await db.query(ACTIVE_TOKENS_SQL)).toEqual([{ n: 1 }]);
      expect((await settingsWith(replica, admin.token)).statusCode).toBe(200);
    } finally {
      await proxy.stop();
    }
  });

  it('PostgreSQL down at boot and empty once reachable: offers the wizard then', async () => {
    db = await createTestDatabase();
    const port = await freePort();
    const proxy = new TcpProxy(port, Number(db.env.POSTGRES_PORT));
    try {
      const t = await start({ ...db.env, POSTGRES_PORT: String(port) });
      expect(t.app.setupStatus.snapshot().state).toBe('setting_up');
      await proxy.start();
      const deadline = Date.now() + 15_000;
      while (t.app.setupStatus.snapshot().state !== 'unconfigured' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(t.app.setupStatus.snapshot()).toEqual({ configured: false, initialized: false, dialect: null, type: null, state: 'unconfigured' });
      expect(t.logs.join('')).toMatch(/Not set up yet/);
      const setUp = await t.setUp('postgresql');
      expect(setUp.statusCode).toBe(200);
      expect(setUp.json().admin_token).toMatch(/^gwa_/);
    } finally {
      await proxy.stop();
    }
  });
});
