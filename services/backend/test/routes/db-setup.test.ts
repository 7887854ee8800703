import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { startApp, TEST_SETUP_TOKEN, type TestApp } from '../../../../test/helpers/app.ts';
import { createTestDatabase, TABLES_SQL, type TestDatabase } from '../../../../test/helpers/postgres.ts';
import { freePort, TcpProxy } from '../../../../test/helpers/tcp-proxy.ts';
import { withClient } from '../../../../test/support/databases.ts';
import { SETUP_PHASE_NAMES } from '../../src/schemas/database.ts';
import { MIGRATION_TAGS } from '../../../../test/helpers/migrations.ts';

const selectionFile = (t: TestApp) => join(t.dataDir, 'db.selection.json');

/** Core tables and Drizzle's bookkeeping, read straight from the database the app set up. */
async function tablesIn(t: TestApp, db: TestDatabase | null) {
  if (db) {
    return {
      core: (await db.query(TABLES_SQL, ['public'])).map((row) => row.table_name),
      migrations: Number((await db.query('select count(*)::int as n from drizzle.__drizzle_migrations'))[0]!.n),
    };
  }
  const pglite = await PGlite.create(join(t.dataDir, 'pglite'));
  try {
    return {
      core: (await pglite.query<{ table_name: string }>(TABLES_SQL, ['public'])).rows.map((row) => row.table_name),
      migrations: (await pglite.query<{ n: number }>('select count(*)::int as n from drizzle.__drizzle_migrations')).rows[0]!.n,
    };
  } finally {
    await pglite.close();
  }
}

describe.each(['pglite', 'postgresql'] as const)('POST /api/db/setup with %s', (type) => {
  let db: TestDatabase | null = null;
  let t: TestApp;

  beforeEach(async () => {
    db = type === 'postgresql' ? await createTestDatabase() : null;
    t = await startApp(db?.env ?? {});
  });
  afterEach(async () => {
    await t.close();
    await db?.drop();
  });

  it('sets up the database, writes the selection file last and reports ready', async () => {
    const before = await t.app.inject('/api/db/status');
    expect(before.json()).toEqual({ configured: false, initialized: false, dialect: null, type: null, state: 'unconfigured' });

    const response = await t.setUp(type);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ message: expect.any(String), restart_required: false, database_type: type, admin_token: expect.stringMatching(/^gwa_/) });

    const after = await t.app.inject('/api/db/status');
    expect(after.json()).toEqual({ configured: true, initialized: true, dialect: 'postgresql', type, state: 'ready' });

    const selection = JSON.parse(readFileSync(selectionFile(t), 'utf8'));
    expect(selection).toEqual({ type, selectedAt: expect.any(String), version: 1 });
    expect(Date.parse(selection.selectedAt)).toBeGreaterThan(Date.now() - 60_000);

    const again = await t.setUp(type);
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toBe('already_configured');

    // The core's tables and those of the installed plugins, as the plugin registry names them.
    const pluginTables = t.app.plugins.list().flatMap((plugin) => plugin.tables);
    await t.app.close();
    const tables = await tablesIn(t, db);
    expect({ ...tables, core: [...tables.core].sort() }).toEqual({
      core: ['admin_tokens', 'global_setting_groups', 'global_settings', 'plugin_schemas', 'settings_encryption', 'settings_version', 'setup_record', ...pluginTables].sort(),
      migrations: MIGRATION_TAGS.length,
    });
  });

  it('lets exactly one of 20 simultaneous calls win; the others get 409', async () => {
    const responses = await Promise.all(Array.from({ length: 20 }, () => t.setUp(type)));
    const codes = responses.map((response) => response.statusCode).sort();
    expect(codes).toEqual([200, ...Array(19).fill(409)]);
    for (const response of responses.filter((r) => r.statusCode === 409)) {
      expect(response.json()).toEqual({ error: 'setup_in_progress', message: expect.any(String) });
    }
    expect(t.app.setupStatus.snapshot().state).toBe('ready');
  });

  it('shows the running phase in status while it works', async () => {
    const seen = new Set<string>();
    const setup = t.setUp(type);
    let settled = false;
    void setup.finally(() => (settled = true));
    while (!settled) {
      const status = (await t.app.inject('/api/db/status')).json();
      if (status.state === 'setting_up') seen.add(status.phase);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await setup).statusCode).toBe(200);
    expect(seen.has('connect')).toBe(true);
    expect([...seen].every((phase) => SETUP_PHASE_NAMES.includes(phase as never))).toBe(true);
  });
});

describe('POST /api/db/setup refuses bad requests and writes nothing', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startApp();
  });
  afterEach(() => t.close());

  const json = { 'content-type': 'application/json', 'x-setup-token': TEST_SETUP_TOKEN };
  const cases = [
    { name: 'unknown type', headers: json, payload: '{"type":"mysql"}', status: 400, error: 'invalid_body', says: /pglite, postgresql/ },
    { name: 'extra field', headers: json, payload: '{"type":"pglite","password":"x"}', status: 400, error: 'invalid_body', says: /Unknown field "password"/ },
    { name: 'missing type', headers: json, payload: '{}', status: 400, error: 'invalid_body', says: /Missing field "type"/ },
    { name: 'type not a string', headers: json, payload: '{"type":1}', status: 400, error: 'invalid_body', says: /"type"/ },
    { name: 'array body', headers: json, payload: '["pglite"]', status: 400, error: 'invalid_body', says: /object/ },
    { name: 'not JSON', headers: json, payload: '{type: pglite', status: 400, error: 'invalid_json', says: /not valid JSON/ },
    { name: 'empty JSON body', headers: json, payload: '', status: 400, error: 'invalid_body', says: /empty/ },
    { name: 'wrong content type', headers: { ...json, 'content-type': 'text/plain' }, payload: '{"type":"pglite"}', status: 400, error: 'unsupported_content_type', says: /application\/json/ },
    { name: 'form content type', headers: { ...json, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'type=pglite', status: 400, error: 'unsupported_content_type', says: /application\/json/ },
    { name: 'oversized body', headers: json, payload: JSON.stringify({ type: 'pglite', pad: 'x'.repeat(5000) }), status: 400, error: 'body_too_large', says: /too large/ },
    { name: 'no token', headers: { 'content-type': 'application/json' }, payload: '{"type":"pglite"}', status: 401, error: 'setup_token_required', says: /X-Setup-Token/ },
    { name: 'wrong token', headers: { ...json, 'x-setup-token': 'not-the-token-at-all' }, payload: '{"type":"pglite"}', status: 401, error: 'invalid_setup_token', says: /wrong/ },
    // Found when the connect phase opens the driver: the answer names that phase.
    { name: 'postgresql without settings', headers: json, payload: '{"type":"postgresql"}', status: 400, error: 'postgresql_not_configured', says: /DATABASE_URL/, phase: 'connect' },
  ];

  it.each(cases)('$name → $status $error', async ({ headers, payload, status, error, says, phase }) => {
    const response = await t.app.inject({ method: 'POST', url: '/api/db/setup', headers, payload });
    expect(response.statusCode).toBe(status);
    expect(response.json()).toEqual({ error, message: expect.stringMatching(says), ...(phase && { phase }) });
    expect(existsSync(selectionFile(t))).toBe(false);
    expect(existsSync(join(t.dataDir, 'pglite'))).toBe(false);
    expect(t.app.setupStatus.snapshot().state).toBe('unconfigured');
  });
});

describe('POST /api/db/setup when PostgreSQL fails', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(() => db.drop());

  it('answers 503 naming host:port (never the password) while unreachable, and succeeds once it is back', async () => {
    const port = await freePort();
    const proxy = new TcpProxy(port, Number(db.env.POSTGRES_PORT));
    // Reachable at boot (so it offers setup), gone by the time setup runs.
    await proxy.start();
    const t = await startApp({ ...db.env, POSTGRES_PORT: String(port) });
    await proxy.stop();
    try {
      const refused = await t.setUp('postgresql');
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toEqual({ error: 'database_unavailable', message: expect.stringContaining(`127.0.0.1:${port}`), phase: 'connect' });
      expect(refused.json().message).toMatch(/connection refused/);
      expect(existsSync(selectionFile(t))).toBe(false);
      expect(t.app.setupStatus.snapshot(true)).toMatchObject({ state: 'unconfigured', configured: false, detail: refused.json().message });

      await proxy.start();
      const retried = await t.setUp('postgresql');
      expect(retried.statusCode).toBe(200);
      expect(t.app.setupStatus.snapshot()).toMatchObject({ state: 'ready' });
      expect(t.app.setupStatus.snapshot().error).toBeUndefined();
      expect(t.logs.join('')).not.toContain(db.env.POSTGRES_PASSWORD);
    } finally {
      await t.close();
      await proxy.stop();
    }
  });

  it('keeps checking with a wrong password (it cannot tell whether the database is set up), never echoing it', async () => {
    const t = await startApp({ ...db.env, POSTGRES_PASSWORD: 'wrong-secret-Pa55' });
    try {
      expect(t.app.setupStatus.snapshot(true)).toMatchObject({ state: 'setting_up', detail: expect.stringMatching(/password authentication failed/) });
      expect(JSON.stringify(t.app.setupStatus.snapshot(true))).not.toContain('wrong-secret-Pa55');
      const response = await t.setUp('postgresql');
      expect(response.statusCode).toBe(409);
      expect(response.body).not.toContain('wrong-secret-Pa55');
      expect(t.logs.join('')).not.toContain('wrong-secret-Pa55');
      expect(existsSync(selectionFile(t))).toBe(false);
    } finally {
      await t.close();
    }
  });

  it('names the connect phase when PostgreSQL refuses the password at setup, never echoing it', async () => {
    // A role of its own whose password changes after boot: boot could log in, setup cannot.
    const role = `${db.name}_role`;
    await db.query(`create role ${role} login password 'right-secret-Pa55'`);
    await db.query(`alter database ${db.name} owner to ${role}`);
    const t = await startApp({ ...db.env, POSTGRES_USER: role, POSTGRES_PASSWORD: 'right-secret-Pa55' });
    try {
      await db.query(`alter role ${role} password 'changed-secret-Pa55'`);
      const failed = await t.setUp('postgresql');
      expect(failed.statusCode).toBe(503);
      expect(failed.json()).toEqual({ error: 'database_unavailable', message: expect.stringMatching(/password authentication failed/), phase: 'connect' });
      expect(failed.body).not.toContain('right-secret-Pa55');
      expect(existsSync(selectionFile(t))).toBe(false);
    } finally {
      await t.close();
      // A role outlives its database: drop both (afterEach's drop is then a no-op).
      await db.drop();
      await withClient(inject('postgresUrl'), (client) => client.query(`drop role ${role}`));
    }
  });

  it('answers 500 with the migration error, leaves no partial schema, and a retry after the fix succeeds', async () => {
    // A table in the way of the first migration.
    await db.query('create table setup_record (something text)');
    const t = await startApp(db.env);
    try {
      const failed = await t.setUp('postgresql');
      expect(failed.statusCode).toBe(500);
      expect(failed.json()).toEqual({ error: 'migration_failed', message: expect.stringMatching(/migration failed: .*setup_record.*already exists/), phase: 'migrate' });
      expect(existsSync(selectionFile(t))).toBe(false);
      expect(t.app.setupStatus.snapshot(true)).toMatchObject({ state: 'unconfigured', error: 'A database migration failed; the server log has the details.', detail: failed.json().message });
      // The schema work ran in one transaction: nothing of it is left, Drizzle's bookkeeping included.
      expect(await db.query("select to_regclass('drizzle.__drizzle_migrations') as t")).toEqual([{ t: null }]);
      expect(await db.query("select 1 from pg_stat_activity where datname = $1 and application_name = 'groundwork'", [db.name])).toEqual([]);

      await db.query('drop table setup_record');
      expect((await t.setUp('postgresql')).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('answers 409 schema_diverged naming both sides when the database applied a migration this release does not know, before one it has', async () => {
    const first = MIGRATION_TAGS[0]!;
    await db.query('create schema drizzle; create table drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)');
    // A migration of another branch, generated (and applied) before this release's first one.
    await db.query('insert into drizzle.__drizzle_migrations (hash, created_at) values ($1, 1000)', ['0123456789abcdef0123']);
    const t = await startApp(db.env);
    try {
      const refused = await t.setUp('postgresql');
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toEqual({
        error: 'schema_diverged',
        message: expect.stringContaining(`unknown (generated 1970-01-01T00:00:01.000Z, hash 0123456789ab), where this release has ${first}`),
        phase: 'migrate',
      });
      expect(await db.query('select count(*)::int as n from drizzle.__drizzle_migrations')).toEqual([{ n: 1 }]);
    } finally {
      await t.close();
    }
  });
});

describe('POST /api/db/setup when the selection file cannot be written', () => {
  it('answers 500 storage_error naming the commit phase, and leaves no PGlite folder behind', async () => {
    const t = await startApp();
    try {
      // A folder where the file goes: the atomic rename in the commit phase fails, after the database work.
      mkdirSync(selectionFile(t));
      const failed = await t.setUp('pglite');
      expect(failed.statusCode).toBe(500);
      expect(failed.json()).toEqual({ error: 'storage_error', message: expect.stringContaining('db.selection.json'), phase: 'commit' });
      expect(t.app.setupStatus.snapshot()).toMatchObject({ state: 'unconfigured', configured: false });
      expect(existsSync(join(t.dataDir, 'pglite'))).toBe(false);
    } finally {
      await t.close();
    }
  });
});

describe('POST /api/db/setup when the embedded database is in use', () => {
  /** A PGlite folder whose lock file names `pid`, as another process would leave it. */
  function placeLockFile(t: TestApp, pid: number): string {
    const dataDir = join(t.dataDir, 'pglite');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'groundwork.lock'), String(pid));
    return dataDir;
  }

  it('answers 409 naming the process that holds it, and writes nothing', async () => {
    const t = await startApp();
    try {
      // The test runner's parent process is alive and is not us.
      const dataDir = placeLockFile(t, process.ppid);
      const response = await t.setUp('pglite');
      expect(response.statusCode).toBe(409);
      expect(response.json()).toEqual({ error: 'database_locked', message: expect.stringContaining(`PID ${process.ppid}`), phase: 'connect' });
      expect(existsSync(selectionFile(t))).toBe(false);
      expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(false);
    } finally {
      await t.close();
    }
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    const t = await startApp();
    try {
      const dataDir = placeLockFile(t, 999_999);
      expect((await t.setUp('pglite')).statusCode).toBe(200);
      expect(readFileSync(join(dataDir, 'groundwork.lock'), 'utf8')).toBe(String(process.pid));
      expect(statSync(join(dataDir, 'groundwork.lock')).mode & 0o777).toBe(0o600);
    } finally {
      await t.close();
    }
  });
});
