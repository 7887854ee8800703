import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/tcp-proxy.ts';

export interface PgBouncer {
  /** `postgres://…@127.0.0.1:<port>/<database>`: the pooled URL for `database` on the upstream server. */
  urlFor(database: string): string;
  readonly port: number;
  readonly logs: string[];
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  poolMode?: 'session' | 'transaction' | 'statement';
  /** Server connections per database and user (PgBouncer's default_pool_size). */
  poolSize?: number;
  /** Client connections PgBouncer accepts in all (its max_client_conn). */
  maxClientConnections?: number;
}

/**
 * Starts Debian's PgBouncer (`apt-get install pgbouncer`) in front of the PostgreSQL server at
 * `serverUrl`, on a free port of 127.0.0.1, with every database of that server behind it. It
 * refuses to run as root, so as root it runs as `nobody` (`runuser`) with its files in a temp
 * folder that user can read.
 */
export async function startPgBouncer(serverUrl: string, { poolMode = 'transaction', poolSize = 20, maxClientConnections = 500 }: PgBouncerOptions = {}): Promise<PgBouncer> {
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username);
  const password = decodeURIComponent(server.password);
  const port = await freePort();
  const folder = mkdtempSync(join(tmpdir(), 'gw-pgbouncer-'));
  chmodSync(folder, 0o755);
  const quoted = (value: string) => `"${value.replace(/"/g, '""')}"`;
  const ini = join(folder, 'pgbouncer.ini');
  writeFileSync(
    ini,
    [
      '[databases]',
      // Any database name a client asks for, on the upstream server, logged in with the userlist's password.
      `* = host=${server.hostname} port=${server.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(folder, 'userlist.txt')}`,
      `pool_mode = ${poolMode}`,
      `default_pool_size = ${poolSize}`,
      `max_client_conn = ${maxClientConnections}`,
      'ignore_startup_parameters = extra_float_digits',
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
  );
  writeFileSync(join(folder, 'userlist.txt'), `${quoted(user)} ${quoted(password)}\n`);
  for (const file of ['pgbouncer.ini', 'userlist.txt']) chmodSync(join(folder, file), 0o644);

  const command = process.getuid?.() === 0 ? ['runuser', '-u', 'nobody', '--', 'pgbouncer', ini] : ['pgbouncer', ini];
  const child: ChildProcess = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => logs.push(...chunk.toString().split('\n').filter(Boolean)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let running = true;
  void exited.then(() => (running = false));

  const stop = async () => {
    if (running) child.kill('SIGTERM');
    await exited;
    rmSync(folder, { recursive: true, force: true });
  };

  // Ready once it accepts connections.
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (!running) {
      rmSync(folder, { recursive: true, force: true });
      throw new Error(`PgBouncer exited before listening (is the pgbouncer package installed?):\n${logs.join('\n')}`);
    }
    if (await accepts(port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`PgBouncer did not listen on ${port} within 10 s:\n${logs.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    port,
    logs,
    urlFor(database) {
      const url = new URL(serverUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      url.pathname = `/${database}`;
      return url.href;
    },
    stop,
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
