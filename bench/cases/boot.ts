import { join } from 'node:path';
import { spawnServer, type ServerProcess } from '../../test/helpers/server-process.ts';
import { tempDir } from '../../test/helpers/temp.ts';
import { alternate, COMPILED_SERVER, freshDatabase, loggedPhases, mb, memoryMb, ms, pairCount, SERVER_NODE, sleep, spread, stats, type BenchCase, type BenchResult } from '../lib.ts';

const SECRET = { ENCRYPTION_SECRET: 'benchmark-encryption-secret-0123456789' };
const BARE_SERVER = join(import.meta.dirname, '../support/bare-server.js');

/** The compiled server as `npm start` runs it: plain node, no TypeScript loader. */
const startCompiled = (env: Record<string, string>) => spawnServer({ NODE_OPTIONS: '', ...env }, [...SERVER_NODE, COMPILED_SERVER]);
const startBare = () => spawnServer({ NODE_OPTIONS: '' }, [...SERVER_NODE, BARE_SERVER]);

/** Spawn to `ready` (a server) or spawn to listening (the bare process), in ms; `listened` gets spawn to listening. */
async function timeToReady(start: () => Promise<ServerProcess>, ready: RegExp | null, listened?: number[]): Promise<number> {
  const started = performance.now();
  const server = await start();
  listened?.push(performance.now() - started);
  if (ready) await server.waitForLog(ready, 60_000);
  const elapsed = performance.now() - started;
  await server.stop();
  return elapsed;
}

/** The boot's setup phases as the server logs them at debug level ("setup phase done", with ms). */
async function bootPhases(env: Record<string, string>): Promise<string> {
  const server = await startCompiled({ ...env, LOG_LEVEL: 'debug' });
  try {
    await server.waitForLog(/Database ready/, 60_000);
    const phases = [...loggedPhases(server.logs)].map(([phase, ms]) => `${phase} ${ms} ms`);
    return phases.join(', ') || 'none logged';
  } finally {
    await server.stop();
  }
}

/** #4 boot to ready with nothing pending, and #7 idle memory after setup, for each driver: the compiled build beside a bare compiled Fastify process. */
export const bootBench: BenchCase = {
  id: 4,
  alsoRows: [7],
  title: 'boot to ready, and idle RSS (compiled build)',
  async run({ quick, postgresUrl }) {
    const pairs = pairCount(quick);
    // How long a process sits idle before its RSS is read (--quick: only that it works).
    // Long enough for what an idle server settles to: the server gives back the heap its boot and
    // setup left a few seconds after they end (src/heap-compaction.ts).
    const idleMs = quick ? 500 : 8_000;
    const results: BenchResult[] = [];

    for (const type of ['postgresql', 'pglite'] as const) {
      const folders: ReturnType<typeof tempDir>[] = [];
      const databases: Awaited<ReturnType<typeof freshDatabase>>[] = [];
      let instanceEnv: Record<string, string> = {};
      try {
        // #7: a bare process idle, then a fresh instance set up headlessly (DB_TYPE) and idle, in turn.
        const memory = await alternate(
          pairs,
          async () => {
            const bare = await startBare();
            await sleep(idleMs);
            const { rss } = memoryMb(bare.child.pid!);
            await bare.stop();
            return rss;
          },
          async () => {
            const folder = tempDir('groundwork-bench-');
            folders.push(folder);
            const database = type === 'postgresql' ? await freshDatabase(postgresUrl) : null;
            if (database) databases.push(database);
            instanceEnv = { PERSISTENT_DATA_DIR: folder.path, ...SECRET, ...database?.env };
            const server = await startCompiled({ ...instanceEnv, DB_TYPE: type });
            await server.waitForStatus((status) => status.state === 'ready');
            await sleep(idleMs);
            const { rss } = memoryMb(server.child.pid!);
            await server.stop();
            return rss;
          },
        );

        // #4: the last instance set up above, booted again with nothing pending.
        const listened: number[] = [];
        const boot = await alternate(
          pairs,
          () => timeToReady(startBare, null),
          () => timeToReady(() => startCompiled(instanceEnv), /Database ready/, listened),
        );
        const phases = await bootPhases(instanceEnv);
        const after = boot.ours.median - boot.baseline.median;
        const bootGoal = type === 'postgresql' ? 300 : 600;
        results.push({
          what: `#4 boot to ready, nothing pending (${type}, compiled build)`,
          baseline: `${spread(boot.baseline)} (bare compiled Fastify process: spawn to listening)`,
          ours: `${spread(boot.ours)} (spawn to "Database ready": ${ms(after)} after the baseline)`,
          ratio: boot.ours.median / boot.baseline.median,
          goal: `ready ≤ ${bootGoal / 1000} s after the baseline listens`,
          met: after <= bootGoal,
          note: `both run with plain node (no tsx) and \`npm start\`'s node options (${SERVER_NODE.join(' ') || 'none'}); the server listens first (${spread(stats(listened))} after its spawn), then runs the boot's setup phases. Those phases, from one more boot with LOG_LEVEL=debug (not among the timed ones): ${phases}`,
        });

        const rssCap = type === 'postgresql' ? 120 : 250;
        const rssRatio = memory.ours.median / memory.baseline.median;
        results.push({
          what: `#7 idle RSS after setup (${type}, compiled build)`,
          baseline: `${spread(memory.baseline, mb)} (bare compiled Fastify process, ${idleMs / 1000} s idle)`,
          ours: `${spread(memory.ours, mb)} (the process that set the instance up, ${idleMs / 1000} s idle)`,
          ratio: rssRatio,
          goal: type === 'postgresql' ? `≤ ${rssCap} MB and ≤ 1.4×` : `≤ ${rssCap} MB`,
          met: memory.ours.median <= rssCap && (type !== 'postgresql' || rssRatio <= 1.4),
          note: 'each sample is a new instance set up headlessly (DB_TYPE), so the RSS includes what setting up left behind',
        });
      } finally {
        for (const database of databases) await database.drop();
        for (const folder of folders) folder.remove();
      }
    }
    return results;
  },
};
