import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../services/backend/src/paths.ts';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/temp.ts';

const SERVER_ENTRY = join(REPO_ROOT, 'services/backend/src/server.ts');
const SETUP_LINK_ALONE = /^\s+http:\/\/127\.0\.0\.1:\d+\/setup\?token=[A-Za-z0-9_-]+$/;
const PRETTY_LINE = /^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN|ERROR): /;
// A token in a query string: the request log must show it redacted, in either format.
const QUERY_SECRET = 'query-secret-never-logged-7f3a';

// util-linux's `script` gives the server a terminal for its stdout (no node-pty needed).
const HAS_SCRIPT = spawnSync('script', ['--version']).status === 0;

/** Drops the terminal's colour codes and carriage returns. */
const plain = (text: string) => stripVTControlCharacters(text).replace(/\r/g, '');

describe('log format', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function start(env: Record<string, string>): Promise<ServerProcess> {
    const folder = tempDir();
    cleanups.push(() => folder.remove());
    const server = await spawnServer({ PERSISTENT_DATA_DIR: folder.path, ...env });
    cleanups.push(() => server.stop('SIGKILL'));
    return server;
  }

  it('LOG_FORMAT=pretty: readable lines, the setup link alone on its line, secrets still redacted', async () => {
    const server = await start({ LOG_FORMAT: 'pretty' });
    await server.waitForLog(SETUP_LINK_ALONE, 60_000);
    await server.get(`/api/db/status?token=${QUERY_SECRET}`);
    await server.waitForLog(/token=\[redacted\]/, 30_000);

    const lines = server.logs;
    expect(lines.find((line) => /Server listening at/.test(line))).toMatch(PRETTY_LINE);
    expect(lines.find((line) => /Not set up yet/.test(line))).toMatch(/INFO: Not set up yet\. Open the link below \(the token is also in .*setup-token\)\.$/);
    expect(lines.some((line) => line.startsWith('{'))).toBe(false);
    expect(lines.join('\n')).not.toContain(QUERY_SECRET);
  });

  it('stdout a pipe (no LOG_FORMAT): JSON lines, the link in the message and in a field of its own', async () => {
    const server = await start({});
    await server.waitForLog(/setup\?token=/, 60_000);
    await server.get(`/api/db/status?token=${QUERY_SECRET}`);
    await server.waitForLog(/token=\[redacted\]/, 30_000);

    const entries = server.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    const announcement = entries.find((entry) => /Not set up yet/.test(String(entry.msg)))!;
    expect(announcement.setupUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/setup\?token=[A-Za-z0-9_-]+$/);
    expect(announcement.msg).toContain(announcement.setupUrl as string);
    expect(server.logs.join('\n')).not.toContain(QUERY_SECRET);
  });

  it('an invalid LOG_FORMAT is a configuration error that says which values work', async () => {
    const error = await start({ LOG_FORMAT: 'xml' }).then(
      () => null,
      (failure: Error) => failure.message,
    );
    expect(error).toContain('exited (code 1)');
    expect(error).toContain('LOG_FORMAT must be json or pretty (got "xml")');
  });

  /** Runs the server with a terminal as its stdout; resolves with what the terminal showed once `until` matched. */
  async function onTerminal(env: Record<string, string>, until: RegExp): Promise<string> {
    const folder = tempDir();
    cleanups.push(() => folder.remove());
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(POSTGRES_|DATABASE_URL$|DB_TYPE$|SETUP_TOKEN$|LOG_FORMAT$|GROUNDWORK_)/.test(name)));
    // `exec` makes the shell's pid the server's, printed first so the test can always end it.
    const command = `echo "pid:$$"; exec ${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(SERVER_ENTRY)}`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: REPO_ROOT,
      env: { ...inherited, SHELL: '/bin/sh', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', PERSISTENT_DATA_DIR: folder.path, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    cleanups.push(async () => {
      const pid = Number(/pid:(\d+)/.exec(output)?.[1]);
      child.kill('SIGTERM');
      await exited;
      if (pid) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already ended with its terminal.
        }
      }
    });
    const deadline = Date.now() + 60_000;
    while (!until.test(plain(output))) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`The terminal never showed ${until}:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return plain(output);
  }

  it.skipIf(!HAS_SCRIPT)('stdout a terminal (no LOG_FORMAT): pretty, with the setup link alone on its line', async () => {
    const shown = await onTerminal({}, /\n\s+http:\/\/127\.0\.0\.1:\d+\/setup\?token=\S+\n/);
    const lines = shown.split('\n');
    expect(lines.find((line) => /Server listening at/.test(line))).toMatch(PRETTY_LINE);
    expect(lines.some((line) => SETUP_LINK_ALONE.test(line))).toBe(true);
    expect(lines.some((line) => line.startsWith('{'))).toBe(false);
  });

  it.skipIf(!HAS_SCRIPT)('stdout a terminal with LOG_FORMAT=json: JSON lines', async () => {
    const shown = await onTerminal({ LOG_FORMAT: 'json' }, /Not set up yet[^\n]*\n/);
    const announcement = shown.split('\n').find((line) => /Not set up yet/.test(line))!;
    expect(JSON.parse(announcement)).toMatchObject({ level: 30, setupUrl: expect.stringMatching(/\/setup\?token=/) });
  });
});
