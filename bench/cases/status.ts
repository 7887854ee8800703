import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { tempDir } from '../../test/helpers/temp.ts';
import { alternate, pairCount, SERVER_NODE, spread, stats, STATUS_SERVER, type BenchCase } from '../lib.ts';

/** #1: GET /api/db/status against a bare JSON route in the same server, 50 connections. */
export const statusBench: BenchCase = {
  id: 1,
  title: 'GET /api/db/status throughput',
  async run({ quick }) {
    const folder = tempDir('groundwork-bench-');
    const server = spawn(process.execPath, [...SERVER_NODE, STATUS_SERVER], {
      env: { ...process.env, NODE_OPTIONS: '', PERSISTENT_DATA_DIR: folder.path, LOG_LEVEL: 'warn', SETUP_TOKEN: 'benchmark-setup-token-0123456789' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const port = await new Promise<number>((resolve) =>
        createInterface({ input: server.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port)),
      );
      const seconds = quick ? 1 : 2;
      const load = (path: string) => autocannon({ url: `http://127.0.0.1:${port}${path}`, connections: 50, duration: seconds });
      await load('/api/db/status'); // warm-up: JIT and connection setup
      await load('/bench/bare');
      const runs: Record<'bare' | 'status', autocannon.Result[]> = { bare: [], status: [] };
      const rate = (side: 'bare' | 'status') => async () => {
        const result = await load(side === 'bare' ? '/bench/bare' : '/api/db/status');
        runs[side].push(result);
        return result.requests.average;
      };
      const { baseline, ours } = await alternate(pairCount(quick), rate('bare'), rate('status'));
      // Like every timing here: the median of the runs, with their min–max.
      const p99 = (side: 'bare' | 'status') => stats(runs[side].map((result) => result.latency.p99));
      const latency = (value: number) => `${value} ms`;
      const errors = runs.status.reduce((sum, result) => sum + result.errors + result.timeouts + result.non2xx, 0);
      const ratio = baseline.median / ours.median;
      const perSecond = (value: number) => `${Math.round(value)} req/s`;
      return [
        {
          what: '#1 GET /api/db/status, 50 connections',
          baseline: `${spread(baseline, perSecond)}, p99 ${spread(p99('bare'), latency)} (bare Fastify JSON route, same server, same body)`,
          ours: `${spread(ours, perSecond)}, p99 ${spread(p99('status'), latency)}, ${errors} errors`,
          ratio,
          goal: '≥ 0.9× req/s (ratio ≤ 1.11), p99 ≤ 5 ms',
          met: ratio <= 1 / 0.9 && p99('status').median <= 5 && errors === 0,
          note: `the compiled build with plain node, as \`npm start\` runs it (${SERVER_NODE.join(' ')}); ${seconds} s per route in turn (bare, status, bare, …), LOG_LEVEL=warn for both; p99 is each run's 99th percentile latency, median [min–max] of the runs. autocannon shares the machine's cores with the server`,
        },
      ];
    } finally {
      server.kill('SIGTERM');
      folder.remove();
    }
  },
};
