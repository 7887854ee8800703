import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/temp.ts';

// Short limits so each case takes seconds; the defaults (30 s for a request) work the same way.
const LIMITS = { HTTP_REQUEST_TIMEOUT_MS: '2000', HTTP_HEADERS_TIMEOUT_MS: '1000' };
// Node checks these timeouts on an interval (a quarter of the headers timeout here), and a loaded machine adds a little.
const CUT_OFF_WITHIN_MS = 2000 + 1500;

interface RawClient {
  socket: Socket;
  received: () => string;
  /** Resolves with the milliseconds from connecting until the server closed the connection. */
  closed: Promise<number>;
}

/** A client on a plain TCP socket, so it can send a request as slowly as it likes. */
async function rawClient(server: ServerProcess): Promise<RawClient> {
  const { hostname, port } = new URL(server.url);
  const socket = connect(Number(port), hostname);
  const started = Date.now();
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString()));
  socket.on('error', () => {}); // a reset is one of the ways to be cut off
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('close', () => reject(new Error('The server closed the connection at once')));
  });
  return { socket, received: () => received, closed };
}

/** The milliseconds until the connection closed, or null if it is still open after `limitMs`. */
function closedWithin(client: RawClient, limitMs: number): Promise<number | null> {
  return Promise.race([client.closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), limitMs))]);
}

/** Sends one byte every `everyMs` while the socket is open (a slow-loris upload). */
function dribble(client: RawClient, everyMs: number): () => void {
  const timer = setInterval(() => {
    if (!client.socket.destroyed) client.socket.write(' ');
  }, everyMs);
  return () => clearInterval(timer);
}

describe('slow and surplus clients', () => {
  const folder = tempDir();
  let server: ServerProcess | undefined;
  const clients: RawClient[] = [];
  afterEach(async () => {
    clients.splice(0).forEach((client) => client.socket.destroy());
    await server?.stop('SIGKILL');
    server = undefined;
  });
  afterAll(() => folder.remove());

  const start = async (env: Record<string, string> = {}) => {
    server = await spawnServer({ PERSISTENT_DATA_DIR: folder.path, SETUP_TOKEN: 'slow-clients-token-1234', ...LIMITS, ...env });
    return server;
  };
  const open = async () => {
    const client = await rawClient(server!);
    clients.push(client);
    return client;
  };

  it('cuts off a body sent a byte at a time with 408 request_timeout, and answers health checks meanwhile', async () => {
    await start();
    const slow = await open();
    slow.socket.write('POST /api/db/setup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');
    const stop = dribble(slow, 200);
    const cutOff = closedWithin(slow, CUT_OFF_WITHIN_MS);
    let settled = false;
    void cutOff.then(() => (settled = true));

    while (!settled) {
      expect(await server!.get('/api/health')).toEqual({ status: 200, body: { status: 'ok' } });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    stop();
    expect(await cutOff).not.toBeNull();
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(slow.received()).toContain('"error":"request_timeout"');
  });

  it('cuts off headers sent a byte at a time, and a connection that sends nothing', async () => {
    await start();
    const slowHeaders = await open();
    slowHeaders.socket.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const stop = dribble(slowHeaders, 200);
    const silent = await open();

    const [headersCutMs, silentCutMs] = await Promise.all([closedWithin(slowHeaders, CUT_OFF_WITHIN_MS), closedWithin(silent, CUT_OFF_WITHIN_MS)]);
    stop();
    expect(headersCutMs).not.toBeNull();
    expect(silentCutMs).not.toBeNull();
  });

  it('closes connections beyond HTTP_MAX_CONNECTIONS at once and serves again when one ends', async () => {
    await start({ HTTP_MAX_CONNECTIONS: '5', HTTP_REQUEST_TIMEOUT_MS: '60000', HTTP_HEADERS_TIMEOUT_MS: '60000' });
    const held = await Promise.all(Array.from({ length: 5 }, () => open()));
    await new Promise((resolve) => setTimeout(resolve, 200)); // the server has accepted all five

    const surplus = await rawClient(server!).then(
      (client) => {
        clients.push(client);
        return closedWithin(client, 1000);
      },
      () => 0, // closed before the connect event: refused just the same
    );
    expect(surplus).not.toBeNull();

    held[0]!.socket.destroy();
    await held[0]!.closed;
    // The server counts the slot free once it has seen the close: within a moment, not at once.
    const deadline = Date.now() + 2_000;
    let health = await server!.get('/api/health').catch(() => null);
    while (!health && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      health = await server!.get('/api/health').catch(() => null);
    }
    expect(health).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('exits promptly on SIGTERM while a client stalls mid-request and another sits idle', async () => {
    // Long limits: only the shutdown may cut these clients off.
    await start({ HTTP_REQUEST_TIMEOUT_MS: '60000', HTTP_HEADERS_TIMEOUT_MS: '60000' });
    const stalledBody = await open();
    stalledBody.socket.write('POST /api/db/setup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');
    const stalledHeaders = await open();
    stalledHeaders.socket.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const idle = await open();
    idle.socket.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 300));

    server!.child.kill('SIGTERM');
    const exit = await Promise.race([server!.exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 5000))]);
    expect(exit).toEqual({ code: 0, signal: null });
  });
});
