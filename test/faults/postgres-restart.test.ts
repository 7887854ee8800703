import type { InjectOptions } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setUpWithAdmin } from '../helpers/admin.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { journalPlugin, pluginsFolder } from '../helpers/plugins.ts';
import { freePort, TcpProxy } from '../helpers/tcp-proxy.ts';
import { createDatabase, type ScratchDatabase } from '../support/databases.ts';
import { startPostgres, type RunningPostgres } from '../support/start-postgres.ts';

// Short, so the test is quick; the default (15 s) is documented in the README.
const QUERY_TIMEOUT_MS = 2_000;
// A request may first wait for a new connection (connect timeout: 5 s), then for its query.
const CONNECT_TIMEOUT_MS = 5_000;
// What "no request hangs" means here: every answer comes within both timeouts plus this.
const ANSWER_SLACK_MS = 1_500;

/** A request that must answer in time: fails the test with its URL instead of hanging it. */
async function answersInTime(t: TestApp, options: InjectOptions, withinMs = CONNECT_TIMEOUT_MS + QUERY_TIMEOUT_MS + ANSWER_SLACK_MS) {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    t.app.inject(options),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${options.method ?? 'GET'} ${String(options.url)} did not answer within ${withinMs} ms`)), withinMs);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Polls readiness every 100 ms; resolves with how long it took to answer 200. */
async function readyAgainWithin(t: TestApp, limitMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    if ((await t.app.inject('/api/health/ready')).statusCode === 200) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`/api/health/ready was not 200 within ${limitMs} ms of PostgreSQL's return`);
}

/** What a request during an outage must get: a prompt 503 in the one error shape, never a 500 or a hang. */
function expectUnavailable(response: { statusCode: number; json(): unknown }) {
  expect(response.statusCode).toBe(503);
  expect(response.json()).toEqual({ error: expect.stringMatching(/^(database_unavailable|database_not_ready)$/), message: expect.any(String) });
}

// A PostgreSQL server of its own: this test stops it, which would break every other test sharing one.
describe('PostgreSQL restarted after setup', () => {
  let postgres: RunningPostgres;
  let db: ScratchDatabase;
  let apps: TestApp[] = [];
  // A plugin of the test's own, so the example plugins can change without touching this test.
  const plugins = pluginsFolder({ journal: journalPlugin });
  beforeAll(async () => {
    postgres = await startPostgres();
  });
  afterAll(async () => {
    await postgres?.stop();
    plugins.remove();
  });
  afterEach(async () => {
    await Promise.all(apps.map((t) => t.close()));
    apps = [];
    await db?.drop();
  });

  const start = async (env: Record<string, string>) => {
    // Replicas share the secret their settings are encrypted with.
    const t = await startApp({ ...env, PLUGINS_DIR: plugins.path, DB_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS), ENCRYPTION_SECRET: 'replicas-share-this-secret-0123456789' });
    apps.push(t);
    return t;
  };

  it('answers 503 promptly while it is down and is ready within 5 s of its return, without a restart', async () => {
    db = await createDatabase(postgres.url);
    const t = await start(db.env);
    const admin = await setUpWithAdmin(t, 'postgresql');
    // A second replica: after the restart, its change must reach the first (LISTEN reconnected).
    const replica = await start(db.env);
    expect(replica.app.setupStatus.snapshot().state).toBe('ready');

    await postgres.pause();
    await new Promise((resolve) => setTimeout(resolve, 2_100)); // readiness caches a good answer for 2 s
    expectUnavailable(await answersInTime(t, { url: '/api/health/ready' }));
    expectUnavailable(await answersInTime(t, { method: 'PUT', url: '/api/settings/mail.port', headers: { authorization: `Bearer ${admin.token}` }, payload: { value: 2525 } }));
    expectUnavailable(await answersInTime(t, { url: '/api/plugins/journal/', headers: { authorization: `Bearer ${admin.token}` } }));
    // Served from memory, so still answered.
    expect((await answersInTime(t, { url: '/api/db/status' })).json()).toMatchObject({ state: 'ready', configured: true });

    await postgres.resume();
    const back = await readyAgainWithin(t, 5_000);
    expect(back).toBeLessThan(5_000);

    const changed = await admin.call('PUT', '/api/settings/mail.port', { value: 2525 });
    expect(changed.statusCode).toBe(200);
    expect((await admin.call('POST', '/api/plugins/journal/', { title: 'after the restart' })).statusCode).toBe(201);
    await expect.poll(() => replica.app.settings.get('mail.port'), { timeout: 5_000 }).toBe(2525);
  });

  it('a network partition (connections open, nothing answers) gives 503 within the query timeout, then recovers', async () => {
    db = await createDatabase(postgres.url);
    const proxy = new TcpProxy(await freePort(), Number(db.env.POSTGRES_PORT));
    await proxy.start();
    try {
      const t = await start({ ...db.env, POSTGRES_PORT: String(proxy.port) });
      const admin = await setUpWithAdmin(t, 'postgresql');
      const authorization = `Bearer ${admin.token}`;

      proxy.hold();
      const answers = await Promise.all([
        answersInTime(t, { method: 'PUT', url: '/api/settings/mail.port', headers: { authorization }, payload: { value: 2525 } }),
        answersInTime(t, { method: 'POST', url: '/api/plugins/journal/', headers: { authorization }, payload: { title: 'during the partition' } }),
        answersInTime(t, { url: '/api/plugins/journal/', headers: { authorization } }),
      ]);
      for (const answer of answers) expectUnavailable(answer);
      await new Promise((resolve) => setTimeout(resolve, 2_100)); // readiness caches a good answer for 2 s
      expectUnavailable(await answersInTime(t, { url: '/api/health/ready' }));

      proxy.release();
      expect(await readyAgainWithin(t, 5_000)).toBeLessThan(5_000);
      expect((await admin.call('PUT', '/api/settings/mail.port', { value: 2526 })).statusCode).toBe(200);
      expect((await admin.call('GET', '/api/plugins/journal/')).statusCode).toBe(200);
      // The write that timed out may have been applied once the partition ended; never twice, never half.
      expect((await db.query<{ n: number }>('select count(*)::int as n from journal_entries'))[0]!.n).toBeLessThanOrEqual(1);
    } finally {
      await proxy.stop();
    }
  });
});
