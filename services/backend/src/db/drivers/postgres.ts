import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { describeTarget, type PostgresSettings } from '../../config.ts';
import { DatabaseUnavailableError, isConnectionError } from '../../errors.ts';
import { MIGRATIONS_DIR } from '../../paths.ts';
import * as schema from '../schema/index.ts';
import type { DatabaseDriver, DriverLog, ExclusiveSession } from './types.ts';
import { withTimeout } from './timeout.ts';

// One lock for every process that changes this database's schema (setup, boot, `npm run db:migrate`).
const SCHEMA_LOCK_SQL = "select pg_advisory_lock(hashtextextended('groundwork.schema', 0))";
/** How a server's LISTEN connection names itself: one per running server (`settings:rotate-key` counts them). */
export const LISTEN_APPLICATION_NAME = 'groundwork-listen';
const CONNECT_TIMEOUT_MS = 5_000;
// TCP keepalive probes start after this much silence, so a connection behind a partition is found
// dead in minutes rather than the OS default of two hours (schema work has no query timeout).
const KEEPALIVE_AFTER_MS = 10_000;
// How long to wait for another process's schema work. A holder that is really working finishes
// sooner; one behind a dead, half-open connection would otherwise block every replica for hours.
const SCHEMA_LOCK_WAIT = '60s';

export interface PoolOptions {
  max: number;
  /**
   * How long a query from the pool may go unanswered. Without it, a request whose connection sits
   * behind a network partition (no reset, no answer) would wait for TCP to give up: hours.
   */
  queryTimeoutMs: number;
}

export async function openPostgres(settings: PostgresSettings, poolOptions: PoolOptions, log: DriverLog): Promise<DatabaseDriver> {
  const target = describeTarget(settings.target);
  const hostPort = `${settings.target.host}:${settings.target.port}`;
  const pool = new pg.Pool({
    ...settings.connection,
    max: poolOptions.max,
    query_timeout: poolOptions.queryTimeoutMs,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_AFTER_MS,
    application_name: 'groundwork',
  });
  // An idle connection dropped by the server (restart, failover) must not crash the process.
  pool.on('error', (error) => log.warn({ err: scrub(error, settings) }, 'PostgreSQL connection lost; the pool reconnects on demand'));

  const unavailable = (error: unknown) =>
    new DatabaseUnavailableError(`Cannot connect to PostgreSQL at ${hostPort}: ${explainConnectError(error, settings)}`, { cause: scrub(error, settings) });

  try {
    await pool.query('select 1');
  } catch (error) {
    await pool.end().catch(() => {});
    throw unavailable(error);
  }

  const listeners: Listener[] = [];

  return {
    type: 'postgresql',
    db: drizzle({ client: pool, schema }),
    target,
    connectionLost: (error) =>
      isConnectionError(error)
        ? new DatabaseUnavailableError(`Lost the connection to PostgreSQL at ${hostPort}: ${explainConnectError(error, settings)}`, { cause: scrub(error, settings) })
        : null,
    async ping(timeoutMs) {
      try {
        await withTimeout(pool.query('select 1'), timeoutMs, `no answer within ${timeoutMs} ms`);
      } catch (error) {
        throw unavailable(error);
      }
    },
    async lock(): Promise<ExclusiveSession> {
      // A connection of its own, outside the pool: schema work (a migration on a big table) may rightly
      // take longer than a request's query timeout, and must not take a pool slot from requests.
      const client = dedicatedClient(settings, 'groundwork-schema');
      // Without a listener, a dropped connection between two statements would be an unhandled
      // 'error' event and end the process.
      client.on('error', (error) => log.warn({ err: scrub(error, settings) }, 'PostgreSQL connection lost while holding the schema lock'));
      try {
        await client.connect();
        await client.query(`set lock_timeout = '${SCHEMA_LOCK_WAIT}'`);
        await client.query(SCHEMA_LOCK_SQL);
        await client.query('reset lock_timeout');
      } catch (error) {
        await client.end().catch(() => {});
        if ((error as { code?: string }).code === '55P03') {
          throw new DatabaseUnavailableError(
            `Another process has held the schema lock on PostgreSQL at ${hostPort} for over ${SCHEMA_LOCK_WAIT} (a setup or migration still running, or a connection that died). Try again; pg_locks shows the holder.`,
          );
        }
        throw unavailable(error);
      }
      const db = drizzle({ client, schema });
      return {
        db,
        migrate: () => migrate(db, { migrationsFolder: MIGRATIONS_DIR }),
        async release() {
          // Ending the session releases its advisory lock (and a broken one has lost it already).
          // The error listener stays: a connection may still fail while it ends.
          await client.end().catch(() => {});
        },
      };
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async listen(channel, onMessage) {
      // Tracked before it connects, so a close() that comes meanwhile still stops it.
      const listener = new Listener(settings, channel, onMessage, log);
      listeners.push(listener);
      await listener.start();
    },
    async close() {
      await Promise.all(listeners.map((listener) => listener.stop()));
      await pool.end();
    },
  };
}

/** A connection outside the pool, for work that holds a session: no query timeout, found dead by keepalive. */
function dedicatedClient(settings: PostgresSettings, applicationName: string): pg.Client {
  return new pg.Client({
    ...settings.connection,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_AFTER_MS,
    application_name: applicationName,
  });
}

/**
 * A connection of its own that stays in LISTEN (a pooled one would be handed to others).
 * Reconnects with backoff when it drops, then reports '*' so the caller reloads what it missed.
 */
class Listener {
  private client: pg.Client | null = null;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelayMs = 250;

  constructor(
    private readonly settings: PostgresSettings,
    private readonly channel: string,
    private readonly onMessage: (payload: string) => void,
    private readonly log: DriverLog,
  ) {}

  async start(): Promise<void> {
    if (this.stopped) return;
    const client = dedicatedClient(this.settings, LISTEN_APPLICATION_NAME);
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.onMessage(message.payload ?? '');
    });
    client.on('error', () => this.reconnect(client));
    client.on('end', () => this.reconnect(client));
    await client.connect();
    await client.query(`LISTEN ${client.escapeIdentifier(this.channel)}`);
    if (this.stopped) {
      await client.end();
      return;
    }
    this.client = client;
    this.retryDelayMs = 250;
  }

  private reconnect(broken: pg.Client): void {
    if (this.stopped || this.client !== broken) return;
    this.client = null;
    broken.end().catch(() => {});
    this.log.warn({ channel: this.channel }, 'Lost the LISTEN connection to PostgreSQL; reconnecting');
    const retry = () => {
      this.retryTimer = null;
      if (this.stopped) return;
      this.start().then(
        () => this.onMessage('*'),
        () => {
          this.retryDelayMs = Math.min(this.retryDelayMs * 2, 10_000);
          this.retryTimer = setTimeout(retry, this.retryDelayMs);
        },
      );
    };
    this.retryTimer = setTimeout(retry, this.retryDelayMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }
}

/** Plain words for why a connection failed, from node-postgres and Node's network errors. */
function explainConnectError(error: unknown, settings: PostgresSettings): string {
  const code = (error as { code?: string }).code;
  const { user, database } = settings.target;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the server running and listening on that port?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ECONNRESET':
      return 'connection reset by the server';
    case '28P01':
      return `password authentication failed for user "${user}" (check POSTGRES_PASSWORD)`;
    case '28000':
      return `the server refused user "${user}" (check pg_hba.conf and POSTGRES_USER)`;
    case '3D000':
      return `database "${database}" does not exist (create it or fix POSTGRES_DATABASE)`;
    case '57P03':
      return 'the server is starting up or shutting down';
  }
  const message = scrub(error, settings).message;
  if (/timeout/i.test(message)) return `no answer within ${CONNECT_TIMEOUT_MS / 1000} s`;
  return message || 'unknown error';
}

/** A copy of the error whose message cannot contain the password, whatever the driver put in it. */
function scrub(error: unknown, settings: PostgresSettings): Error {
  const original = error instanceof Error ? error : new Error(String(error));
  const secrets = [settings.password, 'connectionString' in settings.connection ? settings.connection.connectionString : undefined]
    .filter((secret): secret is string => !!secret);
  let message = original.message;
  for (const secret of secrets) message = message.split(secret).join('***');
  const copy = new Error(message);
  copy.name = original.name;
  Object.assign(copy, { code: (original as { code?: string }).code });
  return copy;
}
