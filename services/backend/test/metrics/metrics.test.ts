import { afterEach, describe, expect, it } from 'vitest';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../../../../test/helpers/postgres.ts';
import { TOKEN_FAILURE_LIMIT } from '../../src/fastify/token-rate-limit.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

// One sample line of the Prometheus text format: name{label="value",…} number.
const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\])*",?)*)\})? (-?[0-9.]+(?:e[+-]?[0-9]+)?|NaN|[+-]Inf)$/i;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:\\.|[^"\\])*)"/g;

/** Parses the exposition text; fails the test on any line that is not a comment or a valid sample. */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = SAMPLE_LINE.exec(line);
    expect(match, `not a Prometheus sample line: ${line}`).not.toBeNull();
    const labels = Object.fromEntries([...(match![2] ?? '').matchAll(LABEL)].map(([, name, value]) => [name!, value!]));
    samples.push({ name: match![1]!, labels, value: Number(match![3]!.replace(/inf/i, 'Infinity').replace(/^nan$/i, 'NaN')) });
  }
  return samples;
}

/** The samples named `name` whose labels include `labels`. */
function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = find(samples, name, labels);
  expect(found.length, `${name} ${JSON.stringify(labels)} matches ${found.length} samples`).toBeLessThanOrEqual(1);
  return found[0]?.value;
}

async function scrape(t: TestApp, headers: Record<string, string> = {}): Promise<Sample[]> {
  const response = await t.app.inject({ url: '/metrics', headers });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(response.body);
}

describe('GET /metrics', () => {
  const apps: TestApp[] = [];
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((t) => t.close()));
    await db?.drop();
    db = undefined;
  });
  const start = async (env: Record<string, string>) => {
    const t = await startApp(env);
    apps.push(t);
    return t;
  };

  it('is not found (404 in the one error shape) unless METRICS_ENABLED=true', async () => {
    const t = await start({});
    const response = await t.app.inject('/metrics');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'not_found', message: expect.stringContaining('METRICS_ENABLED=true') });
  });

  it('answers before setup, without the database: not ready, process metrics, requests by route pattern', async () => {
    const t = await start({ METRICS_ENABLED: 'true' });
    expect((await t.app.inject('/api/db/status')).statusCode).toBe(200);
    expect((await t.app.inject('/api/no/such/route?x=1')).statusCode).toBe(404);

    const samples = await scrape(t);
    expect(value(samples, 'groundwork_ready')).toBe(0);
    expect(value(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value(samples, 'groundwork_http_request_duration_seconds_count', { route: '/api/db/status', method: 'GET', status_code: '200' })).toBe(1);
    expect(find(samples, 'groundwork_http_request_duration_seconds_bucket', { route: '/api/db/status', le: '+Inf' })).toHaveLength(1);
    // An unknown path is one series whatever the URL, so scanners cannot add series.
    expect(value(samples, 'groundwork_http_request_duration_seconds_count', { route: '(unmatched)', status_code: '404' })).toBe(1);
    expect(samples.some((sample) => Object.values(sample.labels).some((label) => label.includes('/api/no/such')))).toBe(false);
    // No pool before a database is active.
    expect(value(samples, 'groundwork_db_pool_connections')).toBe(0);
  });

  it('shows setup phases, the schema lock, the pool, plugins, readiness and settings changes after a PostgreSQL setup', async () => {
    db = await createTestDatabase();
    const env = { ...db.env, METRICS_ENABLED: 'true', ENCRYPTION_SECRET: 'shared-replica-encryption-secret-1234' };
    const first = await start(env);
    const admin = await setUpWithAdmin(first, 'postgresql');

    let samples = await scrape(first);
    expect(value(samples, 'groundwork_ready')).toBe(1);
    for (const phase of ['connect', 'migrate', 'settings', 'plugins', 'commit']) {
      expect(value(samples, 'groundwork_setup_phase_duration_seconds_count', { phase, mode: 'first-time' }), phase).toBe(1);
    }
    expect(value(samples, 'groundwork_setup_phase_duration_seconds_sum', { phase: 'migrate' })).toBeGreaterThan(0);
    expect(value(samples, 'groundwork_schema_lock_wait_seconds_count')).toBe(1);
    expect(value(samples, 'groundwork_db_pool_connections')).toBeGreaterThanOrEqual(1);
    expect(value(samples, 'groundwork_db_pool_idle_connections')).toBeGreaterThanOrEqual(0);
    expect(value(samples, 'groundwork_db_pool_waiting_requests')).toBe(0);
    for (const plugin of ['audit_log', 'notes']) {
      expect(value(samples, 'groundwork_plugin_status', { plugin, status: 'active' }), plugin).toBe(1);
      expect(value(samples, 'groundwork_plugin_status', { plugin, status: 'failed' }), plugin).toBe(0);
    }
    expect(value(samples, 'groundwork_settings_cache_version')).toBe(0);
    expect(value(samples, 'groundwork_settings_last_change_received_timestamp_seconds')).toBe(0);

    // A second app in this process (a replica joining at boot) has a registry of its own.
    const second = await start({ ...env, DB_TYPE: 'postgresql' });
    const before = Date.now() / 1000;
    expect((await admin.call('PUT', '/api/settings/general.instance_name', { value: 'Renamed' })).statusCode).toBe(200);
    expect((await admin.call('GET', '/api/settings/general.instance_name')).statusCode).toBe(200);

    // The change reaches the other replica: its cache version moves and the arrival is stamped.
    const started = Date.now();
    do {
      samples = await scrape(second);
      if (value(samples, 'groundwork_settings_cache_version') === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    } while (Date.now() - started < 5_000);
    expect(value(samples, 'groundwork_settings_cache_version')).toBe(1);
    expect(value(samples, 'groundwork_settings_last_change_received_timestamp_seconds')).toBeGreaterThanOrEqual(Math.floor(before));
    expect(value(samples, 'groundwork_ready')).toBe(1);
    expect(value(samples, 'groundwork_schema_lock_wait_seconds_count')).toBe(1);
    expect(find(samples, 'groundwork_setup_phase_duration_seconds_count', { phase: 'migrate' })).toHaveLength(1);
    // The second app served no settings request: the first app's requests are not in its registry.
    expect(find(samples, 'groundwork_http_request_duration_seconds_count', { route: '/api/settings/:key' })).toEqual([]);

    samples = await scrape(first);
    // The route's pattern, never the key in the URL.
    expect(value(samples, 'groundwork_http_request_duration_seconds_count', { route: '/api/settings/:key', method: 'PUT', status_code: '200' })).toBe(1);
    expect(value(samples, 'groundwork_http_request_duration_seconds_count', { route: '/api/settings/:key', method: 'GET', status_code: '200' })).toBe(1);
    expect(samples.some((sample) => sample.labels.route?.includes('instance_name'))).toBe(false);
  });

  it('with METRICS_TOKEN, answers only the bearer of that token; wrong tokens count toward the rate limit', async () => {
    const token = 'metrics-token-3f9c2a7e1b6d40c8';
    const t = await start({ METRICS_ENABLED: 'true', METRICS_TOKEN: token });

    const missing = await t.app.inject('/metrics');
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toEqual({ error: 'metrics_token_required', message: expect.stringContaining('Authorization: Bearer') });
    const wrong = await t.app.inject({ url: '/metrics', headers: { authorization: 'Bearer not-the-metrics-token' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({ error: 'invalid_metrics_token', message: expect.any(String) });
    expect(wrong.body).not.toContain(token);
    expect(value(await scrape(t, { authorization: `Bearer ${token}` }), 'groundwork_ready')).toBe(0);

    for (let attempt = 1; attempt < TOKEN_FAILURE_LIMIT; attempt += 1) {
      expect((await t.app.inject({ url: '/metrics', headers: { authorization: `Bearer wrong-${attempt}` } })).statusCode).toBe(401);
    }
    const limited = await t.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toBe('too_many_attempts');
    expect(t.logs.join('\n')).not.toContain(token);
  });
});
