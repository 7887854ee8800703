import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '../../services/backend/src/paths.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/temp.ts';
import { MIGRATION_TAGS } from '../helpers/migrations.ts';
import { startPgBouncer, type PgBouncer } from '../support/pgbouncer.ts';

const run = promisify(execFile);
const SECRET = 'replicas-behind-a-pooler-share-this-secret';

async function adminToken(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const entry = join(REPO_ROOT, 'services/backend/src/cli/admin-token.ts');
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', entry], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

async function call(server: ServerProcess, method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** How long until every server answers `value` for `key` (polling every 25 ms), or throws after `limitMs` × 3. */
async function timeUntilSeen(servers: ServerProcess[], token: string, key: string, value: string, limitMs: number): Promise<number> {
  const started = performance.now();
  const pending = new Set(servers);
  while (pending.size > 0) {
    for (const server of [...pending]) {
      if ((await call(server, 'GET', `/api/settings/${key}`, token)).body.value === value) pending.delete(server);
    }
    if (performance.now() - started > limitMs * 3) throw new Error(`${pending.size} replica(s) never saw ${key} = ${value}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return performance.now() - started;
}

describe('three replicas behind PgBouncer in transaction mode', () => {
  let bouncer: PgBouncer;
  let db: TestDatabase;
  let servers: ServerProcess[] = [];
  let folders: ReturnType<typeof tempDir>[] = [];
  beforeAll(async () => {
    bouncer = await startPgBouncer(inject('postgresUrl'), { poolMode: 'transaction' });
  });
  afterAll(async () => {
    await bouncer?.stop();
  });
  afterEach(async () => {
    await Promise.all(servers.map((server) => server.stop('SIGKILL')));
    servers = [];
    await db?.drop();
    folders.forEach((folder) => folder.remove());
    folders = [];
  });

  async function startReplicas(extraEnv: (db: TestDatabase) => Record<string, string>): Promise<void> {
    db = await createTestDatabase();
    folders = [tempDir(), tempDir(), tempDir()];
    servers = await Promise.all(
      folders.map((folder) => spawnServer({ PERSISTENT_DATA_DIR: folder.path, DB_TYPE: 'postgresql', ENCRYPTION_SECRET: SECRET, DATABASE_URL: bouncer.urlFor(db.name), ...extraEnv(db) })),
    );
    for (const server of servers) {
      expect(await server.waitForStatus((status) => status.state === 'ready' || status.error !== undefined, 90_000)).toMatchObject({ state: 'ready', type: 'postgresql' });
    }
  }

  /** Schema work happened once, whichever replica did it, and every replica has both example plugins. */
  async function expectSchemaWorkOnce(token: string): Promise<void> {
    expect(await db.query('select count(*)::int as n from drizzle.__drizzle_migrations')).toEqual([{ n: MIGRATION_TAGS.length }]);
    expect(await db.query('select plugin_id from plugin_schemas order by plugin_id')).toEqual([{ plugin_id: 'audit_log' }, { plugin_id: 'notes' }]);
    expect(await db.query('select count(*)::int as n from setup_record')).toEqual([{ n: 1 }]);
    expect(await db.query('select count(*)::int as n from settings_encryption')).toEqual([{ n: 1 }]);
    // Seeding ran once: no replica rewrote a row another one had written.
    expect(await db.query('select count(distinct updated_at)::int as n from global_settings')).toEqual([{ n: 1 }]);
    const logs = servers.flatMap((server) => server.logs).join('\n');
    for (const plugin of ['notes', 'audit_log']) expect(logs.match(new RegExp(`Plugin ${plugin}: tables brought up to date`, 'g'))).toHaveLength(1);
    for (const server of servers) {
      const plugins = await call(server, 'GET', '/api/plugins', token);
      expect(plugins.status).toBe(200);
      expect(plugins.body.plugins.map((plugin: { id: string; status: string }) => [plugin.id, plugin.status]).sort()).toEqual([
        ['audit_log', 'active'],
        ['notes', 'active'],
      ]);
    }
  }

  it('pooled URL only: ready, schema work once, plugins active, a settings change reaches the others within 5 s', async () => {
    await startReplicas(() => ({}));
    for (const server of servers) expect(server.logs.join('\n')).toMatch(/PostgreSQL connection mode: pooled only/);

    // A command that holds a session lock says why it cannot work through the pooler.
    const refused = await adminToken({ PERSISTENT_DATA_DIR: folders[0]!.path, DATABASE_URL: bouncer.urlFor(db.name), ENCRYPTION_SECRET: SECRET });
    expect(refused.code).toBe(1);
    expect(refused.stderr + refused.stdout).toMatch(/transaction pooler.*DATABASE_DIRECT_URL/);
    const issued = await adminToken({ PERSISTENT_DATA_DIR: folders[0]!.path, DATABASE_URL: db.url, ENCRYPTION_SECRET: SECRET });
    expect(issued.code).toBe(0);
    const token = issued.stdout.trim();

    await expectSchemaWorkOnce(token);
    expect((await call(servers[0]!, 'PUT', '/api/settings/general.instance_name', token, { value: 'pooled-only' })).status).toBe(200);
    expect(await timeUntilSeen(servers.slice(1), token, 'general.instance_name', 'pooled-only', 5_000)).toBeLessThan(5_000);
  });

  it('with DATABASE_DIRECT_URL: ready, schema work once, plugins active, a settings change reaches the others within 1 s', async () => {
    await startReplicas((database) => ({ DATABASE_DIRECT_URL: database.url }));
    for (const server of servers) expect(server.logs.join('\n')).toMatch(/PostgreSQL connection mode: pooled with direct URL/);

    const issued = await adminToken({ PERSISTENT_DATA_DIR: folders[0]!.path, DATABASE_URL: bouncer.urlFor(db.name), DATABASE_DIRECT_URL: db.url, ENCRYPTION_SECRET: SECRET });
    expect(issued.code).toBe(0);
    const token = issued.stdout.trim();

    await expectSchemaWorkOnce(token);
    expect((await call(servers[0]!, 'PUT', '/api/settings/general.instance_name', token, { value: 'direct-url' })).status).toBe(200);
    expect(await timeUntilSeen(servers.slice(1), token, 'general.instance_name', 'direct-url', 1_000)).toBeLessThan(1_000);
  });
});
