import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { buildApp } from '../../services/backend/src/app.ts';
import { loadConfig } from '../../services/backend/src/config.ts';
import { MIGRATIONS_DIR } from '../../services/backend/src/paths.ts';
import { spawnServer } from '../../test/helpers/server-process.ts';
import { tempDir } from '../../test/helpers/temp.ts';
import { alternate, COMPILED_SERVER, freshDatabase, loggedPhases, ms, pairCount, SERVER_NODE, sleep, spread, stats, timeMs, type BenchCase } from '../lib.ts';

const TOKEN = 'benchmark-setup-token-0123456789';
const PHASE_METRIC = /^groundwork_setup_phase_duration_seconds_sum\{phase="(\w+)",mode="first-time"\} ([\d.e+-]+)$/;
const LOCK_METRIC = /^groundwork_schema_lock_wait_seconds_sum ([\d.e+-]+)$/;

/** One timed setup: request to 200, and the phases' own durations as the app's metrics recorded them. */
interface SetupSample {
  ms: number;
  phases: Map<string, number>;
}

/** POST /api/db/setup on a fresh app in this process, from the sources: used to record the SQL a setup sends. */
async function setUpInProcess(type: 'pglite' | 'postgresql', env: Record<string, string>): Promise<SetupSample> {
  const folder = tempDir('groundwork-bench-');
  const app = await buildApp(
    loadConfig({ ...env, PERSISTENT_DATA_DIR: folder.path, SETUP_TOKEN: TOKEN, LOG_LEVEL: 'warn', ENCRYPTION_SECRET: 'benchmark-encryption-secret-0123456789', METRICS_ENABLED: 'true' }),
  );
  try {
    await app.boot.start('http://localhost');
    await app.ready();
    let status = 0;
    const elapsed = await timeMs(async () => {
      status = (await app.inject({ method: 'POST', url: '/api/db/setup', headers: { 'x-setup-token': TOKEN }, payload: { type } })).statusCode;
    });
    if (status !== 200) throw new Error(`setup answered ${status}`);
    const phases = new Map<string, number>();
    for (const line of (await app.inject({ method: 'GET', url: '/metrics' })).body.split('\n')) {
      const phase = PHASE_METRIC.exec(line);
      if (phase) phases.set(phase[1]!, Number(phase[2]) * 1000);
      const lock = LOCK_METRIC.exec(line);
      if (lock) phases.set('schema lock wait', Number(lock[1]) * 1000);
    }
    return { ms: elapsed, phases };
  } finally {
    await app.close();
    folder.remove();
  }
}

// A person opens the wizard after the server says where it is: the POST comes this long after the
// server listens, as it would at the earliest from a browser (boot's background work may run meanwhile).
const WIZARD_DELAY_MS = 1_000;

/** POST /api/db/setup to the compiled server as `npm start` runs it, fresh and unconfigured: request to 200, and its phases from /metrics. */
async function timeSetup(type: 'pglite' | 'postgresql', env: Record<string, string>): Promise<SetupSample> {
  const folder = tempDir('groundwork-bench-');
  const server = await spawnServer(
    { NODE_OPTIONS: '', ...env, PERSISTENT_DATA_DIR: folder.path, SETUP_TOKEN: TOKEN, LOG_LEVEL: 'debug', ENCRYPTION_SECRET: 'benchmark-encryption-secret-0123456789' },
    [...SERVER_NODE, COMPILED_SERVER],
  );
  try {
    await sleep(WIZARD_DELAY_MS);
    let status = 0;
    const elapsed = await timeMs(async () => {
      status = (await server.post('/api/db/setup', { type }, { 'x-setup-token': TOKEN })).status;
    });
    if (status !== 200) throw new Error(`setup answered ${status}`);
    // The log lines come through a pipe, the answer through a socket: the answer can arrive first.
    for (let waited = 0; !loggedPhases(server.logs).has('commit') && waited < 2_000; waited += 20) await sleep(20);
    return { ms: elapsed, phases: loggedPhases(server.logs) };
  } finally {
    await server.stop();
    folder.remove();
  }
}

/** "connect 12 ms, migrate 30 ms, …": the median of each phase over the samples. */
function phaseMedians(samples: SetupSample[]): string {
  const names = [...new Set(samples.flatMap((sample) => [...sample.phases.keys()]))];
  return names.map((name) => `${name} ${ms(stats(samples.map((sample) => sample.phases.get(name) ?? 0)).median)}`).join(', ');
}

interface Statement {
  text: string;
  values?: unknown[];
}

const TRANSACTION_CONTROL = /^\s*(begin|start transaction|commit|rollback|savepoint|release)\b/i;

/**
 * Every statement a real PostgreSQL setup sends, in the order sent, recorded from pg's Client.query
 * (which the app's pool uses) during one setup. Transaction control is left out: the replay runs
 * them all in one transaction.
 */
async function recordSetupStatements(postgresUrl: string): Promise<Statement[]> {
  const database = await freshDatabase(postgresUrl);
  const recorded: Statement[] = [];
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const [first, second] = args as [string | { text?: string; values?: unknown[] }, unknown];
    const text = typeof first === 'string' ? first : first?.text;
    const values = Array.isArray(second) ? second : typeof first === 'object' ? first?.values : undefined;
    if (text && !TRANSACTION_CONTROL.test(text)) recorded.push({ text, values });
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    await setUpInProcess('postgresql', database.env);
  } finally {
    pg.Client.prototype.query = original;
    await database.drop();
  }
  return recorded;
}

/** The recorded statements replayed raw: connect, then all of them in one transaction with pg. */
async function replay(url: string, statements: readonly Statement[]): Promise<number> {
  return timeMs(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('begin');
    for (const statement of statements) await client.query(statement.text, statement.values);
    await client.query('commit');
    await client.end();
  });
}

/** #2 and #3: a whole setup against the least a setup must do. */
export const setupBench: BenchCase = {
  id: 2,
  alsoRows: [3],
  title: 'setup, POST to 200',
  async run({ quick, postgresUrl }) {
    const pairs = pairCount(quick);
    const statements = await recordSetupStatements(postgresUrl);

    const postgresSamples: SetupSample[] = [];
    const postgres = await alternate(
      pairs,
      async () => {
        const database = await freshDatabase(postgresUrl);
        try {
          return await replay(database.url, statements);
        } finally {
          await database.drop();
        }
      },
      async () => {
        const database = await freshDatabase(postgresUrl);
        try {
          const sample = await timeSetup('postgresql', database.env);
          postgresSamples.push(sample);
          return sample.ms;
        } finally {
          await database.drop();
        }
      },
    );

    const pgliteSamples: SetupSample[] = [];
    const pglite = await alternate(
      pairs,
      async () => {
        // The path setup took before: initdb (PGlite.create on a new folder) + Drizzle's migrator.
        const folder = tempDir('groundwork-bench-');
        try {
          return await timeMs(async () => {
            const client = await PGlite.create(join(folder.path, 'pglite'));
            await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_DIR });
            await client.close();
          });
        } finally {
          folder.remove();
        }
      },
      async () => {
        const sample = await timeSetup('pglite', {});
        pgliteSamples.push(sample);
        return sample.ms;
      },
    );

    const postgresRatio = postgres.ours.median / postgres.baseline.median;
    const pgliteRatio = pglite.ours.median / pglite.baseline.median;
    return [
      {
        what: '#2 setup on PostgreSQL: POST /api/db/setup to 200',
        baseline: `${spread(postgres.baseline)} (the same ${statements.length} statements a setup sends, recorded from one, replayed raw with pg: connect + one transaction)`,
        ours: spread(postgres.ours),
        ratio: postgresRatio,
        goal: '≤ 1.3×',
        met: postgresRatio <= 1.3,
        note: `the compiled server as \`npm start\` runs it, fresh for each sample; the POST is sent ${WIZARD_DELAY_MS} ms after it listens, as from a browser at the earliest. Phases as the server logged them (median, LOG_LEVEL=debug): ${phaseMedians(postgresSamples)}. The baseline sends the same SQL with the same values (migrations, settings seeds, plugin DDL, setup record, admin token), without the work the phases do between statements (e.g. deriving the settings key from ENCRYPTION_SECRET, drizzle-kit computing plugin DDL, writing db.selection.json)`,
      },
      {
        what: '#3 setup on PGlite: POST /api/db/setup to 200',
        baseline: `${spread(pglite.baseline)} (PGlite.create on a new folder, i.e. initdb, + Drizzle migrate, in this process)`,
        ours: spread(pglite.ours),
        ratio: pgliteRatio,
        goal: '≤ 0.4× and ≤ 1 s',
        met: pgliteRatio <= 0.4 && pglite.ours.median <= 1_000,
        note: `the compiled server, as for #2. Phases as the server logged them (median, LOG_LEVEL=debug): ${phaseMedians(pgliteSamples)}`,
      },
    ];
  },
};
