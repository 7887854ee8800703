import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '../../services/backend/src/paths.ts';
import { runCli } from '../helpers/cli.ts';
import { MIGRATION_TAGS } from '../helpers/migrations.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/temp.ts';
import { startPgBouncer, type PgBouncer } from '../support/pgbouncer.ts';

const run = promisify(execFile);
const BUILD = join(REPO_ROOT, 'services/backend/build.js');
const COMPILED_SERVER = join(REPO_ROOT, 'services/backend/dist/src/server.js');
const PLAIN_NODE = process.allowedNodeEnvironmentFlags.has('--experimental-strip-types') ? ['--no-experimental-strip-types'] : [];

const REPLICAS = 10;
const POOL_MAX = 3;
// What docs/deploy.md ("Pool sizing") promises beside the pool, per replica, at any one moment:
// the schema transaction and LISTEN (or, while connecting, the two pooler probes).
const EXTRA_PER_REPLICA = 2;
const BOUND = (POOL_MAX + EXTRA_PER_REPLICA) * REPLICAS;
const SECRET = 'a-fleet-of-ten-replicas-shares-this-secret';

/**
 * Samples, every 20 ms, how many server connections PostgreSQL itself has open to `database`
 * (pg_stat_activity, from a connection to another database so it does not count itself).
 */
function sampleConnections(serverUrl: string, database: string) {
  const client = new pg.Client({ connectionString: serverUrl });
  let peak = 0;
  let samples = 0;
  let running = true;
  const loop = (async () => {
    await client.connect();
    while (running) {
      const { rows } = await client.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [database]);
      peak = Math.max(peak, rows[0]!.n);
      samples++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await client.end();
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { peak, samples };
    },
  };
}

async function metricsOf(server: ServerProcess): Promise<string> {
  const response = await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(30_000) });
  expect(response.status).toBe(200);
  return response.text();
}

// Issue 15, "Seeing the fleet": ten replicas as they are really run, behind a transaction pooler.
describe(`${REPLICAS} replicas started together behind PgBouncer in transaction mode`, () => {
  let bouncer: PgBouncer;
  let db: TestDatabase | null = null;
  let servers: ServerProcess[] = [];
  let folders: ReturnType<typeof tempDir>[] = [];
  beforeAll(async () => {
    // The compiled server (what `npm start` runs): ten tsx processes compiling at once would
    // measure the 2-core machine's TypeScript transpiler rather than the fleet.
    await run(process.execPath, [BUILD], { cwd: REPO_ROOT });
    // PgBouncer's own limits sit above the bound, so the bound is kept by the replicas, not by the pooler.
    bouncer = await startPgBouncer(inject('postgresUrl'), { poolMode: 'transaction', poolSize: BOUND * 2, maxClientConnections: BOUND * 4 });
  });
  afterEach(async () => {
    await Promise.all(servers.map((server) => server.stop('SIGKILL')));
    servers = [];
    await db?.drop();
    db = null;
    folders.forEach((folder) => folder.remove());
    folders = [];
  });
  afterAll(async () => {
    await bouncer?.stop();
  });

  it.each([
    { mode: 'pooled only', directUrl: false },
    // LISTEN and the schema transaction then go straight to PostgreSQL: the extra per replica counts there.
    { mode: 'pooled with direct URL', directUrl: true },
  ])(`$mode: all ready within 60 s, schema work once, both plugins active everywhere, server connections ≤ (DB_POOL_MAX + ${EXTRA_PER_REPLICA}) × replicas`, async ({ mode, directUrl }) => {
    const database = (db = await createTestDatabase());
    folders = Array.from({ length: REPLICAS }, () => tempDir());
    const pooledUrl = bouncer.urlFor(database.name);
    const urls = { DATABASE_URL: pooledUrl, ...(directUrl ? { DATABASE_DIRECT_URL: database.url } : {}) };

    const booting = sampleConnections(inject('postgresUrl'), database.name);
    const started = performance.now();
    servers = await Promise.all(
      folders.map((folder) =>
        spawnServer(
          {
            PERSISTENT_DATA_DIR: folder.path,
            DB_TYPE: 'postgresql',
            ENCRYPTION_SECRET: SECRET,
            ...urls,
            DB_POOL_MAX: String(POOL_MAX),
            METRICS_ENABLED: 'true',
            NODE_OPTIONS: '',
          },
          [...PLAIN_NODE, COMPILED_SERVER],
        ),
      ),
    );
    const readyAfterMs: number[] = [];
    await Promise.all(
      servers.map(async (server) => {
        expect(await server.waitForStatus((status) => status.state === 'ready' || status.error !== undefined, 90_000)).toMatchObject({ state: 'ready', type: 'postgresql' });
        readyAfterMs.push(Math.round(performance.now() - started));
      }),
    );
    const allReadyMs = Math.max(...readyAfterMs);
    const boot = await booting.stop();

    // An admin token for the load below, from the command line on the server itself (past the pooler).
    const issued = await runCli('admin-token.ts', { PERSISTENT_DATA_DIR: folders[0]!.path, DATABASE_URL: database.url, ENCRYPTION_SECRET: SECRET });
    expect(issued.code).toBe(0);
    const admin = { authorization: `Bearer ${issued.stdout.trim()}`, 'content-type': 'application/json' };

    // A bit of load: more requests at once than each replica's pool holds.
    const loaded = sampleConnections(inject('postgresUrl'), database.name);
    const perReplica = 30;
    await Promise.all(
      servers.flatMap((server, replica) =>
        Array.from({ length: 3 * POOL_MAX }, async (_, worker) => {
          for (let index = worker; index < perReplica; index += 3 * POOL_MAX) {
            const response = await fetch(`${server.url}/api/plugins/notes/`, {
              method: 'POST',
              headers: admin,
              body: JSON.stringify({ title: `replica ${replica} note ${index}` }),
              signal: AbortSignal.timeout(30_000),
            });
            expect(response.status).toBe(201);
          }
        }),
      ),
    );
    const load = await loaded.stop();
    console.log(
      `[fleet] ${mode}: ${REPLICAS} replicas ready after ${allReadyMs} ms (first ${Math.min(...readyAfterMs)} ms); ` +
        `peak server connections to the database: ${boot.peak} while booting (${boot.samples} samples), ${load.peak} under load (${load.samples} samples); bound ${BOUND}`,
    );

    expect(allReadyMs).toBeLessThan(60_000);
    expect(await database.query('select count(*)::int as n from notes_notes')).toEqual([{ n: REPLICAS * perReplica }]);
    expect(Math.max(boot.peak, load.peak)).toBeLessThanOrEqual(BOUND);

    // Schema work happened once, whichever replica did it.
    expect(await database.query('select count(*)::int as n from drizzle.__drizzle_migrations')).toEqual([{ n: MIGRATION_TAGS.length }]);
    expect(await database.query('select plugin_id from plugin_schemas order by plugin_id')).toEqual([{ plugin_id: 'audit_log' }, { plugin_id: 'notes' }]);
    expect(await database.query('select count(*)::int as n from setup_record')).toEqual([{ n: 1 }]);
    expect(await database.query('select count(*)::int as n from settings_encryption')).toEqual([{ n: 1 }]);
    expect(await database.query('select count(distinct updated_at)::int as n from global_settings')).toEqual([{ n: 1 }]);
    const logs = servers.flatMap((server) => server.logs).join('\n');
    expect(logs.match(/Applied \d+ migration\(s\)/g)).toHaveLength(1);
    for (const plugin of ['notes', 'audit_log']) expect(logs.match(new RegExp(`Plugin ${plugin}: tables brought up to date`, 'g'))).toHaveLength(1);
    // Every replica found the pooler (a busy pooler once fooled the probe into "direct": LISTEN through it hears nothing).
    const modes = servers.map((server) => /PostgreSQL connection mode: ([A-Za-z ]+?) \(/.exec(server.logs.join('\n'))?.[1]);
    expect(modes).toEqual(Array(REPLICAS).fill(mode));

    // Every replica: ready, both example plugins active, its pool within DB_POOL_MAX (its metrics).
    const seconds = (metrics: string, series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics)?.[1] ?? 0);
    const waits: number[] = [];
    const underLock: number[] = [];
    for (const server of servers) {
      const metrics = await metricsOf(server);
      waits.push(seconds(metrics, 'groundwork_schema_lock_wait_seconds_sum'));
      underLock.push(['migrate', 'settings', 'plugins', 'commit'].reduce((sum, phase) => sum + seconds(metrics, `groundwork_setup_phase_duration_seconds_sum{phase="${phase}",mode="first-time"}`), 0));
      expect(metrics).toMatch(/^groundwork_ready 1$/m);
      expect(metrics).toMatch(/^groundwork_plugin_status\{plugin="notes",status="active"\} 1$/m);
      expect(metrics).toMatch(/^groundwork_plugin_status\{plugin="audit_log",status="active"\} 1$/m);
      expect(Number(/^groundwork_db_pool_connections (\d+)$/m.exec(metrics)?.[1])).toBeLessThanOrEqual(POOL_MAX);
    }
    // Where the boot time goes: replicas take turns at the schema lock.
    const round = (values: number[]) => values.map((value) => value.toFixed(1)).join(' ');
    console.log(`[fleet] ${mode}: schema lock waits (s): ${round(waits)}; time under the lock (s): ${round(underLock)}`);
  });
});
