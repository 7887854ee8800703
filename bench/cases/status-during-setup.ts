import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { freePort, TcpProxy } from '../../test/helpers/tcp-proxy.ts';
import { tempDir } from '../../test/helpers/temp.ts';
import { freshDatabase, ms, type BenchCase } from '../lib.ts';

const TOKEN = 'benchmark-setup-token-0123456789';

/** #9 (issue 7): status under 50 connections for 20 s while a setup runs on PostgreSQL. */
export const statusDuringSetupBench: BenchCase = {
  id: 9,
  title: 'GET /api/db/status under load during a PostgreSQL setup',
  async run({ quick, postgresUrl }) {
    const database = await freshDatabase(postgresUrl);
    // 10 ms of latency each way stretches the setup over seconds, so the load overlaps all of it.
    const proxy = new TcpProxy(await freePort(), Number(database.env.POSTGRES_PORT), 10);
    await proxy.start();
    const folder = tempDir('groundwork-bench-');
    const server = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../support/status-server.ts')], {
      env: {
        ...process.env,
        ...database.env,
        POSTGRES_PORT: String(proxy.port),
        PERSISTENT_DATA_DIR: folder.path,
        LOG_LEVEL: 'warn',
        SETUP_TOKEN: TOKEN,
        ENCRYPTION_SECRET: 'benchmark-encryption-secret-0123456789',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const port = await new Promise<number>((resolve) =>
        createInterface({ input: server.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port)),
      );
      const base = `http://127.0.0.1:${port}`;
      const duration = quick ? 3 : 20;
      const load = autocannon({ url: `${base}/api/db/status`, connections: 50, duration });
      await new Promise((resolve) => setTimeout(resolve, 500));
      const started = performance.now();
      const setup = await fetch(`${base}/api/db/setup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-setup-token': TOKEN },
        body: JSON.stringify({ type: 'postgresql' }),
      });
      const setupMs = performance.now() - started;
      const result = await load;
      const errors = result.errors + result.timeouts + result.non2xx;
      return [
        {
          what: `#9 GET /api/db/status, 50 connections for ${duration} s while a PostgreSQL setup runs`,
          baseline: '—',
          ours: `${Math.round(result.requests.average)} req/s, p99 ${result.latency.p99} ms, ${errors} errors; setup answered ${setup.status} after ${ms(setupMs)}`,
          ratio: null,
          goal: 'zero errors',
          met: errors === 0 && setup.status === 200,
          note: 'the setup runs through a proxy adding 10 ms each way, so the load overlaps every phase',
        },
      ];
    } finally {
      server.kill('SIGTERM');
      await proxy.stop();
      await database.drop();
      folder.remove();
    }
  },
};
