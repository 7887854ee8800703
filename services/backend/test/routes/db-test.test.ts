import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApp, TEST_SETUP_TOKEN, type TestApp } from '../../../../test/helpers/app.ts';
import { createTestDatabase, TABLES_SQL, type TestDatabase } from '../../../../test/helpers/postgres.ts';
import { freePort } from '../../../../test/helpers/tcp-proxy.ts';

const UNCONFIGURED = { configured: false, initialized: false, dialect: null, type: null, state: 'unconfigured' };

function testConnection(t: TestApp, type: string, token: string | null = TEST_SETUP_TOKEN) {
  return t.app.inject({
    method: 'POST',
    url: '/api/db/test',
    headers: token === null ? {} : { 'x-setup-token': token },
    payload: { type },
  });
}

/** The test changed nothing: no selection file, no PGlite folder, status as before. */
function expectNothingChanged(t: TestApp, status: unknown = UNCONFIGURED) {
  expect(existsSync(join(t.dataDir, 'db.selection.json'))).toBe(false);
  expect(existsSync(join(t.dataDir, 'pglite'))).toBe(false);
  // pglite.staged: the PGlite setup the server prepares while it waits (without PostgreSQL settings), not the test's.
  expect(readdirSync(t.dataDir).filter((name) => name !== 'setup-token' && name !== 'pglite.staged')).toEqual([]);
  expect(t.app.setupStatus.snapshot()).toEqual(status);
}

/** Boot cannot reach the environment's PostgreSQL, so it keeps checking whether it is set up (and offers no setup). */
const CHECKING = expect.objectContaining({ configured: false, state: 'setting_up', phase: 'connect' });

describe('POST /api/db/test with a reachable PostgreSQL', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeEach(async () => {
    db = await createTestDatabase();
    t = await startApp(db.env);
  });
  afterEach(async () => {
    await t.close();
    await db.drop();
  });

  it('answers with the server version and round trip, closes its connection and changes nothing', async () => {
    const response = await testConnection(t, 'postgresql');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ok: true, type: 'postgresql', version: expect.stringMatching(/^PostgreSQL \d+/), round_trip_ms: expect.any(Number) });
    expect(response.json().round_trip_ms).toBeGreaterThanOrEqual(0);
    expect(response.body).not.toContain(db.env.POSTGRES_PASSWORD);
    expect(t.logs.join('')).not.toContain(db.env.POSTGRES_PASSWORD);

    expectNothingChanged(t);
    // No migrations ran, no schema was made, and the test connection is gone.
    expect(await db.query(TABLES_SQL, ['public'])).toEqual([]);
    expect(await db.query("select 1 from pg_namespace where nspname = 'drizzle'")).toEqual([]);
    expect(await db.query("select 1 from pg_stat_activity where datname = $1 and application_name = 'groundwork'", [db.name])).toEqual([]);

    // The token is not spent: setup still works afterwards, and then the test says 409.
    expect((await t.setUp('postgresql')).statusCode).toBe(200);
    const after = await testConnection(t, 'postgresql');
    expect(after.statusCode).toBe(409);
    expect(after.json()).toEqual({ error: 'already_configured', message: expect.any(String) });
  });

  it('answers for the embedded database without creating anything', async () => {
    const response = await testConnection(t, 'pglite');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ok: true, type: 'pglite', version: expect.stringContaining('PGlite'), round_trip_ms: 0 });
    expectNothingChanged(t);
  });

  it.each([
    { name: 'no token', token: null, error: 'setup_token_required' },
    { name: 'wrong token', token: 'not-the-token-at-all', error: 'invalid_setup_token' },
  ])('refuses $name with 401 and does not connect', async ({ token, error }) => {
    const response = await testConnection(t, 'postgresql', token);
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ error, message: expect.any(String) });
    expectNothingChanged(t);
  });

  it.each([
    { name: 'unknown type', payload: '{"type":"mysql"}', error: 'invalid_body' },
    { name: 'extra field', payload: '{"type":"postgresql","password":"x"}', error: 'invalid_body' },
    { name: 'oversized body', payload: JSON.stringify({ type: 'pglite', pad: 'x'.repeat(2000) }), error: 'body_too_large' },
  ])('refuses $name with 400', async ({ payload, error }) => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/db/test',
      headers: { 'content-type': 'application/json', 'x-setup-token': TEST_SETUP_TOKEN },
      payload,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error, message: expect.any(String) });
    expectNothingChanged(t);
  });
});

describe('POST /api/db/test when PostgreSQL cannot be used', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('answers 400 postgresql_not_configured naming the variables to set', async () => {
    t = await startApp();
    const response = await testConnection(t, 'postgresql');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'postgresql_not_configured', message: expect.stringMatching(/DATABASE_URL.*POSTGRES_HOST/) });
    expectNothingChanged(t);
  });

  it('answers 503 naming host:port, never the password, when nothing listens', async () => {
    const port = await freePort();
    const password = 'unreachable-Secret-42';
    t = await startApp({ POSTGRES_HOST: '127.0.0.1', POSTGRES_PORT: String(port), POSTGRES_DATABASE: 'x', POSTGRES_USER: 'x', POSTGRES_PASSWORD: password });
    const response = await testConnection(t, 'postgresql');
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ error: 'database_unavailable', message: expect.stringContaining(`127.0.0.1:${port}`) });
    expect(response.json().message).toMatch(/connection refused/);
    expect(response.body).not.toContain(password);
    expect(t.logs.join('')).not.toContain(password);
    expectNothingChanged(t, CHECKING);
  });

  it('answers 503 for a wrong password without echoing it', async () => {
    const db = await createTestDatabase();
    try {
      t = await startApp({ ...db.env, POSTGRES_PASSWORD: 'wrong-secret-Pa55' });
      const response = await testConnection(t, 'postgresql');
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({ error: 'database_unavailable', message: expect.stringMatching(/password authentication failed/) });
      expect(response.body).not.toContain('wrong-secret-Pa55');
      expect(t.logs.join('')).not.toContain('wrong-secret-Pa55');
      expectNothingChanged(t, CHECKING);
    } finally {
      await t?.close();
      t = undefined;
      await db.drop();
    }
  });
});
