import { execFile, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../services/backend/src/paths.ts';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { freePort } from '../helpers/tcp-proxy.ts';
import { tempDir } from '../helpers/temp.ts';

const PSQL = join(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim(), 'psql');
const SETUP_TOKEN = 'pglite-socket-test-token';

/** Runs one statement with the real psql and returns its unaligned rows. */
async function psql(port: number, statement: string): Promise<string> {
  const { stdout } = await promisify(execFile)(PSQL, ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', statement], {
    env: { ...process.env, PGCONNECT_TIMEOUT: '10' },
    timeout: 60_000,
  });
  return stdout.trim();
}

/** The TCP ports a process listens on, with the address each is bound to (Linux: /proc). */
function listeningSockets(pid: number): { address: string; port: number }[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`)
      .map((fd) => /^socket:\[(\d+)\]$/.exec(readlinkSafe(`/proc/${pid}/fd/${fd}`))?.[1])
      .filter(Boolean),
  );
  const sockets: { address: string; port: number }[] = [];
  for (const [file, ipv6] of [['/proc/net/tcp', false], ['/proc/net/tcp6', true]] as const) {
    for (const line of readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [address, port] = fields[1]!.split(':');
      if (fields[3] !== '0A' || !inodes.has(fields[9])) continue; // 0A: LISTEN
      sockets.push({ address: ipv6 ? address! : address!.match(/../g)!.reverse().map((byte) => parseInt(byte, 16)).join('.'), port: parseInt(port!, 16) });
    }
  }
  return sockets;
}

function readlinkSafe(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

function refusesConnection(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** `npm run db:studio` as a developer runs it beside the server: drizzle-kit studio with drizzle.config.ts. */
async function queryThroughStudio(socketPort: number, statement: string): Promise<unknown> {
  const studioPort = await freePort();
  const { DATABASE_URL: _ignored, ...env } = process.env;
  const studio = spawn(process.execPath, [join(REPO_ROOT, 'node_modules/drizzle-kit/bin.cjs'), 'studio', '--host', '127.0.0.1', '--port', String(studioPort)], {
    cwd: REPO_ROOT,
    env: { ...env, PGLITE_SOCKET_PORT: String(socketPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Drizzle Studio is up and running')) resolve();
      };
      studio.stdout.on('data', onData);
      studio.stderr.on('data', onData);
      studio.once('exit', (code) => reject(new Error(`drizzle-kit studio exited (${code}):\n${output}`)));
    });
    // The request studio's web page sends to run a query.
    const response = await fetch(`http://127.0.0.1:${studioPort}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'proxy', data: { sql: statement, params: [], typings: [], mode: 'object', method: 'all' } }),
    });
    return await response.json();
  } finally {
    studio.kill('SIGKILL');
  }
}

async function setUpOnPglite(server: ServerProcess): Promise<(title: string) => Promise<{ status: number; body: any }>> {
  const setup = await server.post('/api/db/setup', { type: 'pglite' }, { 'x-setup-token': SETUP_TOKEN });
  expect(setup.status).toBe(200);
  const authorization = `Bearer ${setup.body.admin_token}`;
  return (title) => server.post('/api/plugins/notes/', { title, body: `${title} body` }, { authorization });
}

describe.runIf(process.platform === 'linux')('PGLITE_SOCKET_PORT', () => {
  let folder = tempDir();
  let server: ServerProcess | null = null;
  let blocker: Server | null = null;
  afterEach(async () => {
    await server?.stop('SIGKILL');
    server = null;
    await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(null)));
    blocker = null;
    folder.remove();
    folder = tempDir();
  });

  it('serves the embedded database to psql on 127.0.0.1 only; a socket transaction never takes the app\'s writes along', async () => {
    const port = await freePort();
    server = await spawnServer({ PERSISTENT_DATA_DIR: folder.path, SETUP_TOKEN, PGLITE_SOCKET_PORT: String(port) });
    const addNote = await setUpOnPglite(server);
    expect((await addNote('written through the API')).status).toBe(201);

    expect(await psql(port, "select title || '|' || body from notes_notes order by id")).toBe('written through the API|written through the API body');
    expect(server.logs.join('\n')).toContain(`postgres://postgres@127.0.0.1:${port}/postgres`);
    expect(await queryThroughStudio(port, 'select title from notes_notes')).toEqual([{ title: 'written through the API' }]);

    // Bound to loopback only: the HTTP port and the socket, nothing else, and no other address answers.
    const httpPort = Number(new URL(server.url).port);
    expect(listeningSockets(server.child.pid!).sort((a, b) => a.port - b.port)).toEqual(
      [{ address: '127.0.0.1', port: httpPort }, { address: '127.0.0.1', port }].sort((a, b) => a.port - b.port),
    );
    const external = Object.values(networkInterfaces()).flat().find((address) => address && !address.internal && address.family === 'IPv4');
    if (external) expect(await refusesConnection(external.address, port)).toBe(true);

    // A client's open transaction holds the single session: the app's write waits for it and is
    // not rolled back with it (without the gate it would run inside the client's transaction).
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    await client.connect();
    await client.query('begin');
    await client.query("insert into notes_notes (title) values ('inside the socket transaction')");
    let answered = false;
    const appWrite = addNote('written while psql held a transaction').then((response) => {
      answered = true;
      return response;
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(answered).toBe(false);
    await client.query('rollback');
    expect((await appWrite).status).toBe(201);
    await client.end();

    // A client that goes away in the middle of a transaction leaves nothing held.
    const quitter = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    quitter.on('error', () => {});
    await quitter.connect();
    await quitter.query('begin');
    await quitter.query("insert into notes_notes (title) values ('never committed')");
    (quitter as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    expect((await addNote('after the client vanished')).status).toBe(201);

    expect((await psql(port, 'select title from notes_notes order by id')).split('\n')).toEqual([
      'written through the API',
      'written while psql held a transaction',
      'after the client vanished',
    ]);
    // SIGTERM still closes cleanly with the socket open.
    expect(await server.stop('SIGTERM')).toBe(0);
  });

  it('logs why and carries on without the socket when the port is taken', async () => {
    const port = await freePort();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(port, '127.0.0.1', resolve));
    server = await spawnServer({ PERSISTENT_DATA_DIR: folder.path, SETUP_TOKEN, PGLITE_SOCKET_PORT: String(port) });
    const addNote = await setUpOnPglite(server);
    expect((await addNote('still works')).status).toBe(201);
    expect(server.logs.join('\n')).toMatch(new RegExp(`PGLITE_SOCKET_PORT: cannot serve the embedded database on 127\\.0\\.0\\.1:${port} \\(the port is already in use\\); carrying on without the socket`));
    expect(listeningSockets(server.child.pid!).map((socket) => socket.port)).toEqual([Number(new URL(server.url).port)]);
  });

  it('listens on nothing but HTTP when unset', async () => {
    server = await spawnServer({ PERSISTENT_DATA_DIR: folder.path, DB_TYPE: 'pglite' });
    await server.waitForStatus((status) => status.state === 'ready');
    expect(listeningSockets(server.child.pid!)).toEqual([{ address: '127.0.0.1', port: Number(new URL(server.url).port) }]);
  });
});
