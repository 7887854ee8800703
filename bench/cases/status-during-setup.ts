import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { freePort, TcpProxy } from '../../test/helpers/tcp-proxy.ts';
import { tempDir } from '../../test/helpers/temp.ts';
import { alternate, freshDatabase, pairCount, SERVER_NODE, spread, stats, STATUS_SERVER, type BenchCase } from '../lib.ts';

const TOKEN = 'benchmark-setup-token-0123456789';
const CONNECTIONS = 50;
/** Added each way between the server and PostgreSQL: stretches the setup over seconds, so the load overlaps every phase. */
const LATENCY_MS = 10;
/** The load starts this long before the setup's POST. */
const LEAD_MS = 200;

/** Load on `url` until `stop` is called (or `seconds` pass); resolves with autocannon's result. */
function loadUntil(url: string, seconds: number): { stop(): void; result: Promise<autocannon.Result> } {
  let instance: autocannon.Instance | undefined;
  const result = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon({ url, connections: CONNECTIONS, duration: seconds }, (error: unknown, done: autocannon.Result) => (error ? reject(error as Error) : resolve(done)));
  });
  return { stop: () => instance?.stop(), result };
}

/** An unconfigured server whose PostgreSQL is reached through a proxy adding LATENCY_MS each way. */
async function startServer(postgresUrl: string) {
  const database = await freshDatabase(postgresUrl);
  const proxy = new TcpProxy(await freePort(), Number(database.env.POSTGRES_PORT), LATENCY_MS);
  await proxy.start();
  const folder = tempDir('groundwork-bench-');
  const server = spawn(process.execPath, [...SERVER_NODE, STATUS_SERVER], {
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      ...database.env,
      POSTGRES_PORT: String(proxy.port),
      PERSISTENT_DATA_DIR: folder.path,
      LOG_LEVEL: 'warn',
      SETUP_TOKEN: TOKEN,
      ENCRYPTION_SECRET: 'benchmark-encryption-secret-0123456789',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve) =>
    createInterface({ input: server.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port)),
  );
  return {
    base: `http://127.0.0.1:${port}`,
    async stop() {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
      await proxy.stop();
      await database.drop();
      folder.remove();
    },
  };
}

/** #9 (issue 7): status under 50 connections while a setup runs on PostgreSQL, beside the same load on the same server with no setup running. */
export const statusDuringSetupBench: BenchCase = {
  id: 9,
  title: 'GET /api/db/status under load during a PostgreSQL setup',
  async run({ quick, postgresUrl }) {
    const idleSeconds = quick ? 1 : 3;
    const runs: Record<'idle' | 'setup', autocannon.Result[]> = { idle: [], setup: [] };
    const setupMs: number[] = [];
    const setupAnswers: number[] = [];
    let server: Awaited<ReturnType<typeof startServer>> | null = null;
    const { baseline, ours } = await alternate(
      pairCount(quick),
      async () => {
        // A new unconfigured server for each pair: first the load with nothing else going on.
        server = await startServer(postgresUrl);
        await loadUntil(`${server.base}/api/db/status`, 1).result; // warm-up: JIT and connections
        const result = await loadUntil(`${server.base}/api/db/status`, idleSeconds).result;
        runs.idle.push(result);
        return result.requests.average;
      },
      async () => {
        // Then the same load, on the same server, for exactly as long as its setup runs.
        const current = server!;
        try {
          const load = loadUntil(`${current.base}/api/db/status`, 120);
          await new Promise((resolve) => setTimeout(resolve, LEAD_MS));
          const started = performance.now();
          const setup = await fetch(`${current.base}/api/db/setup`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-setup-token': TOKEN },
            body: JSON.stringify({ type: 'postgresql' }),
          });
          setupMs.push(performance.now() - started);
          setupAnswers.push(setup.status);
          load.stop();
          const result = await load.result;
          runs.setup.push(result);
          return result.requests.average;
        } finally {
          await current.stop();
          server = null;
        }
      },
    );
    const errors = (results: autocannon.Result[]) => results.reduce((sum, result) => sum + result.errors + result.timeouts + result.non2xx, 0);
    const p99 = (results: autocannon.Result[]) => Math.max(...results.map((result) => result.latency.p99));
    const perSecond = (value: number) => `${Math.round(value)} req/s`;
    const failedSetups = setupAnswers.filter((status) => status !== 200);
    return [
      {
        what: `#9 GET /api/db/status, ${CONNECTIONS} connections, while a PostgreSQL setup runs`,
        baseline: `${spread(baseline, perSecond)}, worst p99 ${p99(runs.idle)} ms, ${errors(runs.idle)} errors (same server, ${idleSeconds} s with no setup running)`,
        ours: `${spread(ours, perSecond)}, worst p99 ${p99(runs.setup)} ms, ${errors(runs.setup)} errors; setup took ${spread(stats(setupMs))}, answered ${[...new Set(setupAnswers)].join(', ')}`,
        ratio: baseline.median / ours.median,
        goal: 'zero errors, setup answers 200',
        met: errors(runs.setup) === 0 && failedSetups.length === 0,
        note: `the compiled build with plain node; each pair is a new unconfigured server whose PostgreSQL is behind a proxy adding ${LATENCY_MS} ms each way; after a 1 s warm-up, the baseline loads it idle; then the same load starts ${LEAD_MS} ms before the setup's POST and stops when it answers`,
      },
    ];
  },
};
