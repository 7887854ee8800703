import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { DriverLog } from './types.ts';

/** Loopback only: the socket has no password and no TLS. */
const PGLITE_SOCKET_HOST = '127.0.0.1';
// Clients beyond this are turned away; their sessions are serialised anyway (see SessionGate).
const MAX_SOCKET_CLIENTS = 4;
// How often to check for a session left half-way by a client that went away.
const ABANDONED_CHECK_MS = 250;

const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I': not in a transaction block
const TERMINATE = 0x58; // 'X'
const SYNC = Uint8Array.of(0x53, 0, 0, 0, 4);

export interface PgliteSocket {
  stop(): Promise<void>;
}

/**
 * Serves `client` over the PostgreSQL wire protocol on 127.0.0.1:`port`, for psql and drizzle studio.
 * A port that cannot be had is logged and the server carries on without the socket (null).
 */
export async function startPgliteSocket(client: PGlite, port: number, log: DriverLog): Promise<PgliteSocket | null> {
  const gate = new SessionGate(client);
  // pglite-socket (pinned exactly) uses only waitReady, runExclusive, execProtocolRawStream,
  // isInTransaction and exec of its `db`: the gate provides them.
  const server = new PGLiteSocketServer({ db: gate as unknown as PGlite, host: PGLITE_SOCKET_HOST, port, maxConnections: MAX_SOCKET_CLIENTS });
  try {
    await server.start();
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'the port is already in use' : (error as Error).message;
    log.error(
      { port },
      `PGLITE_SOCKET_PORT: cannot serve the embedded database on ${PGLITE_SOCKET_HOST}:${port} (${reason}); carrying on without the socket. Choose a free port and restart.`,
    );
    await server.stop().catch(() => {});
    return null;
  }
  // A client that vanished mid-exchange leaves the gate closed; with nobody connected, end its session.
  const watchdog = setInterval(() => {
    if (gate.holding && server.getStats().activeConnections === 0) void gate.end();
  }, ABANDONED_CHECK_MS).unref();
  log.info({ port }, `The embedded database is served for psql and drizzle studio on postgres://postgres@${PGLITE_SOCKET_HOST}:${port}/postgres (development and inspection only)`);
  return {
    async stop() {
      clearInterval(watchdog);
      gate.closed = true;
      await server.stop();
      await gate.end();
    },
  };
}

/**
 * PGlite has one session. pglite-socket runs each protocol message under PGlite's query lock only,
 * so on their own the app's queries would run inside a socket client's open transaction or between
 * its Parse and Sync, and a socket client's statements inside the app's transactions. The gate holds
 * PGlite's transaction lock (the one the app's queries and transactions take) from a socket client's
 * first message until PostgreSQL is idle again: ReadyForQuery outside a transaction block.
 */
class SessionGate {
  /** Set when the socket stops: late messages are refused rather than run outside the gate. */
  closed = false;
  #held: Promise<void> | null = null;
  #release: (() => void) | null = null;
  #ending: Promise<void> | null = null;

  constructor(private readonly client: PGlite) {}

  get waitReady(): Promise<void> {
    return this.client.waitReady;
  }

  get holding(): boolean {
    return this.#held !== null;
  }

  /** pglite-socket keeps giving the floor to the same client while this is true. */
  isInTransaction(): boolean {
    return this.holding;
  }

  async runExclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('The PGlite socket is closed');
    // A session being ended must finish first, or this message would run outside the gate.
    while (this.#ending) await this.#ending;
    this.#held ??= new Promise<void>((held) => {
      void this.client._runExclusiveTransaction(
        () =>
          new Promise<void>((release) => {
            this.#release = release;
            held();
          }),
      );
    });
    await this.#held;
    return this.client.runExclusive(work);
  }

  async execProtocolRawStream(message: Uint8Array, options: { syncToFs?: boolean; onRawData: (data: Uint8Array) => void }): Promise<void> {
    let tail: Uint8Array = new Uint8Array(0);
    await this.client.execProtocolRawStream(message, {
      ...options,
      onRawData: (data) => {
        tail = lastBytes(tail, data, 6);
        options.onRawData(data);
      },
    });
    const idle = tail.length === 6 && tail[0] === READY_FOR_QUERY && tail[5] === IDLE;
    if (idle || message[0] === TERMINATE) this.#releaseLock();
  }

  /** pglite-socket calls exec('ROLLBACK') when a client leaves while isInTransaction(). */
  async exec(): Promise<void> {
    await this.end();
  }

  /** Ends whatever a departed client left behind (an unsynced exchange, an open transaction) and lets the app go on. */
  async end(): Promise<void> {
    if (!this.#held) return;
    this.#ending ??= (async () => {
      try {
        await this.#held;
        await this.client.runExclusive(async () => {
          await this.client.execProtocolRaw(SYNC);
          if (this.client.isInTransaction()) await this.client.execProtocolRaw(simpleQuery('ROLLBACK'));
        });
      } finally {
        this.#releaseLock();
        this.#ending = null;
      }
    })();
    await this.#ending;
  }

  #releaseLock(): void {
    const release = this.#release;
    this.#held = null;
    this.#release = null;
    release?.();
  }
}

function lastBytes(previous: Uint8Array, next: Uint8Array, count: number): Uint8Array {
  if (next.length >= count) return next.slice(next.length - count);
  const joined = new Uint8Array(previous.length + next.length);
  joined.set(previous);
  joined.set(next, previous.length);
  return joined.slice(Math.max(0, joined.length - count));
}

function simpleQuery(sql: string): Uint8Array {
  const text = new TextEncoder().encode(`${sql}\0`);
  const message = new Uint8Array(5 + text.length);
  message[0] = 0x51; // 'Q'
  new DataView(message.buffer).setInt32(1, 4 + text.length);
  message.set(text, 5);
  return message;
}
