import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../services/backend/src/paths.ts';

const SERVER_ENTRY = join(REPO_ROOT, 'services/backend/src/server.ts');
// Variables a developer's shell might have that must not leak into a test server.
const INHERITED_NAMES_TO_DROP = /^(POSTGRES_|DATABASE_URL$|DB_TYPE$|SETUP_TOKEN$|ENCRYPTION_SECRET$|PERSISTENT_DATA_DIR$|PORT$|HOST$|PGLITE_SOCKET_PORT$|GROUNDWORK_)/;

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly logs: string[];
  get(path: string): Promise<{ status: number; body: any }>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  /** Resolves once a log line matches (e.g. the setup link, written after the token file). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Polls GET /api/db/status until `accept` says yes; `headers` may carry a token to get `detail`. */
  waitForStatus(accept: (status: any) => boolean, timeoutMs?: number, headers?: Record<string, string>): Promise<any>;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `services/backend/src/server.ts` under tsx in its own process on a free port, as `npm run dev`
 * would; `nodeArguments` replaces how it is run (e.g. the compiled server with plain node).
 */
export async function spawnServer(env: Record<string, string>, nodeArguments = ['--import', 'tsx', SERVER_ENTRY]): Promise<ServerProcess> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !INHERITED_NAMES_TO_DROP.test(name)));
  const child = spawn(process.execPath, nodeArguments, {
    cwd: REPO_ROOT,
    env: { ...inherited, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );

  const url = await new Promise<string>((resolve, reject) => {
    const onLine = (line: string) => {
      logs.push(line);
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match) resolve(match[1]!);
    };
    for (const stream of [child.stdout!, child.stderr!]) {
      let buffered = '';
      stream.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        lines.forEach(onLine);
      });
    }
    void exited.then(({ code }) => reject(new Error(`Server exited (code ${code}) before listening:\n${logs.join('\n')}`)));
  });

  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(url + path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      // Generous: a first PGlite setup on a loaded 2-core machine can take tens of seconds.
      signal: AbortSignal.timeout(120_000),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };

  return {
    child,
    url,
    logs,
    exited,
    get: (path) => request('GET', path),
    post: (path, body, headers) => request('POST', path, body, headers),
    async waitForLog(pattern, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      while (!logs.some((line) => pattern.test(line))) {
        if (Date.now() > deadline) throw new Error(`No log line matched ${pattern}:\n${logs.join('\n')}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    },
    async waitForStatus(accept, timeoutMs = 120_000, headers = {}) {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      while (Date.now() < deadline) {
        last = (await request('GET', '/api/db/status', undefined, headers)).body;
        if (accept(last)) return last;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`Status never matched; last: ${JSON.stringify(last)}\n${logs.join('\n')}`);
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return (await exited).code;
    },
  };
}
