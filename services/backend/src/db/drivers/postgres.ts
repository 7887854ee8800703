import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { describeTarget, type PostgresSettings } from '../../config.ts';
import { DatabaseUnavailableError, isConnectionError } from '../../errors.ts';
import * as schema from '../schema/index.ts';
import { applyMigrations } from '../migrations.ts';
import type { AppDatabase } from '../index.ts';
import type { DatabaseDriver, DriverLog, ExclusiveSession, SchemaTransaction } from './types.ts';
import { withTimeout } from './timeout.ts';

// One lock for every process that changes this database's schema (setup, boot, `npm run db:migrate`).
// The session lock (command-line tools) and the transaction lock (setup and boot) share one key, so they exclude each other.
const SCHEMA_LOCK_KEY = "hashtextextended('groundwork.schema', 0)";
const SCHEMA_LOCK_SQL = `select pg_advisory_lock(${SCHEMA_LOCK_KEY})`;
const SCHEMA_XACT_LOCK_SQL = `select pg_advisory_xact_lock(${SCHEMA_LOCK_KEY})`;
/** How a server's LISTEN connection names itself: one per running server (`settings:rotate-key` counts them). */
export const LISTEN_APPLICATION_NAME = 'groundwork-listen';
const CONNECT_TIMEOUT_MS = 5_000;
// TCP keepalive probes start after this much silence, so a connection behind a partition is found
// dead in minutes rather than the OS default of two hours (schema work has no query timeout).
const KEEPALIVE_AFTER_MS = 10_000;
// How long to wait for another process's schema work. A holder that is really working finishes
// sooner; one behind a dead, half-open connection would otherwise block every replica for hours.
const SCHEMA_LOCK_WAIT = '60s';

interface PoolOptions {
  max: number;
  /**
   * How long a query from the pool may go unanswered. Without it, a request whose connection sits
   * behind a network partition (no reset, no answer) would wait for TCP to give up: hours.
   */
  queryTimeoutMs: number;
}

/** How this process reaches PostgreSQL, as logged at connect. */
type ConnectionMode = 'direct' | 'pooled with direct URL' | 'pooled only';

/** `forSetup`: connect the schema session and the LISTEN connection now (see OpenOptions.forSetup). */
export async function openPostgres(settings: PostgresSettings, poolOptions: PoolOptions, log: DriverLog, forSetup = false): Promise<DatabaseDriver> {
  const target = describeTarget(settings.target);
  const hostPort = `${settings.target.host}:${settings.target.port}`;
  // Schema work and LISTEN go straight to the server when DATABASE_DIRECT_URL says where it is.
  const sessionSettings = settings.direct ?? settings;
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

  // Setup and boot take a schema session and a LISTEN connection next: they connect at the same
  // time as the pool's first connection, and the pooler probe runs on them.
  const warm = forSetup ? new WarmSessions(sessionSettings) : null;
  // The server answers, and how it is reached: asked at once, the answer to `select 1` decides the error.
  const [reached, mode] = await Promise.allSettled([pool.query('select 1'), connectionMode(settings, log, warm)]);
  if (reached.status === 'rejected' || mode.status === 'rejected') {
    warm?.end();
    await pool.end().catch(() => {});
    if (reached.status === 'rejected') throw unavailable(reached.reason);
    const error: unknown = (mode as PromiseRejectedResult).reason;
    throw error instanceof DatabaseUnavailableError ? error : unavailable(error);
  }
  const { sessionsWork } = mode.value;
  // Behind a transaction pooler settings changes are polled: no LISTEN connection.
  if (!sessionsWork) warm?.endListen();

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
    changeFeed: sessionsWork ? 'listen' : 'poll',
    async schemaTransaction(): Promise<SchemaTransaction> {
      // A connection of its own, outside the pool, as for lock(). Through a transaction pooler the
      // transaction keeps one server connection from begin to commit, and so does its lock.
      const connecting = warm?.takeSchema();
      const client = connecting ? await connecting.catch((error: unknown) => Promise.reject(unavailable(error))) : dedicatedClient(sessionSettings, 'groundwork-schema');
      client.on('error', (error) => log.warn({ err: scrub(error, settings) }, 'PostgreSQL connection lost during schema work'));
      try {
        if (!connecting) await client.connect();
        return await holdSchemaTransaction(drizzle({ client, schema }), () => client.end().catch(() => {}));
      } catch (error) {
        await client.end().catch(() => {});
        if ((error as { code?: string }).code === '55P03') throw lockWaitExceeded(hostPort);
        throw unavailable(error);
      }
    },
    async lock(): Promise<ExclusiveSession> {
      if (!sessionsWork) {
        throw new DatabaseUnavailableError(
          `PostgreSQL at ${hostPort} is reached through a transaction pooler, which cannot keep the session-level lock this command holds. Set DATABASE_DIRECT_URL to the server itself (past the pooler) and run it again.`,
        );
      }
      // A connection of its own, outside the pool: schema work (a migration on a big table) may rightly
      // take longer than a request's query timeout, and must not take a pool slot from requests.
      const client = dedicatedClient(sessionSettings, 'groundwork-schema');
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
        if ((error as { code?: string }).code === '55P03') throw lockWaitExceeded(hostPort);
        throw unavailable(error);
      }
      const db = drizzle({ client, schema });
      return {
        db,
        migrate: () => applyMigrations(db),
        copyFrom: (statement) => client.query(copyFrom(statement)),
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
      const listener = new Listener(sessionSettings, channel, onMessage, log);
      listeners.push(listener);
      await listener.start(warm?.takeListen());
    },
    async close() {
      warm?.end();
      await Promise.all(listeners.map((listener) => listener.stop()));
      await pool.end();
    },
  };
}

function lockWaitExceeded(hostPort: string): DatabaseUnavailableError {
  return new DatabaseUnavailableError(
    `Another process has held the schema lock on PostgreSQL at ${hostPort} for over ${SCHEMA_LOCK_WAIT} (a setup or migration still running, or a connection that died). Try again; pg_locks shows the holder.`,
  );
}

class RolledBack extends Error {}

/**
 * Opens a transaction that takes the schema lock and stays open across the setup phases until
 * commit() or abort(). Drizzle's transaction() runs a callback: the callback waits here for the
 * end, and what happens inside a phase's `db.transaction()` becomes a savepoint.
 */
async function holdSchemaTransaction(db: AppDatabase, close: () => Promise<void>): Promise<SchemaTransaction> {
  let end!: (commit: boolean) => void;
  const ended = new Promise<void>((resolve, reject) => {
    end = (commit) => (commit ? resolve() : reject(new RolledBack()));
  });
  ended.catch(() => {});
  let opened!: (tx: AppDatabase) => void;
  const open = new Promise<AppDatabase>((resolve) => (opened = resolve));
  const finished = db.transaction(async (tx) => {
    // lock_timeout bounds only the wait for the lock: schema work itself may wait on table locks.
    await tx.execute(sql.raw(`set local lock_timeout = '${SCHEMA_LOCK_WAIT}'`));
    await tx.execute(sql.raw(SCHEMA_XACT_LOCK_SQL));
    await tx.execute(sql.raw('set local lock_timeout = 0'));
    opened(tx as unknown as AppDatabase);
    await ended;
  });
  finished.catch(() => {});
  const tx = await Promise.race([open, finished.then(() => open)]);
  return {
    db: tx,
    migrate: () => applyMigrations(tx),
    async commit() {
      end(true);
      try {
        await finished;
      } finally {
        await close();
      }
    },
    async abort() {
      end(false);
      await finished.catch(() => {});
      await close();
    },
  };
}

/**
 * Whether sessions stay on one server connection, and what to call the setup, from
 * DATABASE_POOL_MODE or by looking: two connections that see the same server process, or one
 * whose server process changes between two statements, go through a transaction pooler.
 */
async function connectionMode(settings: PostgresSettings, log: DriverLog, warm: WarmSessions | null): Promise<{ mode: ConnectionMode; sessionsWork: boolean }> {
  const declared = settings.poolMode ?? 'auto';
  // The warm sessions go where schema work goes: DATABASE_DIRECT_URL if set, else DATABASE_URL.
  const [pooled, directPooled] = await Promise.all([
    declared === 'auto' ? isTransactionPooler(settings, settings.direct ? null : warm) : declared === 'transaction',
    !!settings.direct && declared === 'auto' && isTransactionPooler(settings.direct, warm),
  ]);
  const mode: ConnectionMode = !pooled ? 'direct' : settings.direct ? 'pooled with direct URL' : 'pooled only';
  const sessionsWork = settings.direct ? !directPooled : !pooled;
  const how = {
    direct: settings.direct ? 'DATABASE_URL reaches PostgreSQL directly (no transaction pooler found); DATABASE_DIRECT_URL carries schema work and LISTEN' : 'connected to PostgreSQL directly',
    'pooled with direct URL': 'requests go through the transaction pooler at DATABASE_URL; schema work and LISTEN through DATABASE_DIRECT_URL',
    'pooled only': `a transaction pooler and no DATABASE_DIRECT_URL: schema work runs as one transaction under a transaction-scoped lock, and settings changes are polled every ${SETTINGS_POLL_SECONDS} s instead of LISTEN`,
  }[mode];
  log.info({ databaseConnectionMode: mode, poolModeSetting: declared }, `PostgreSQL connection mode: ${mode} (${how})`);
  if (directPooled) {
    log.warn(
      { databaseConnectionMode: mode },
      `DATABASE_DIRECT_URL also reaches a transaction pooler (its server process changes between statements): LISTEN cannot work there, so settings changes are polled. Point it at the PostgreSQL server itself (or a session-mode pool).`,
    );
  }
  return { mode, sessionsWork };
}

/** How often a process that cannot LISTEN looks for settings changes (SettingsStore polls; named here for the log). */
const SETTINGS_POLL_SECONDS = 2;

const POOLER_PROBE_ATTEMPTS = 5;

/** `warm`: probe on the setup's sessions (same endpoint), which stay open for their work; else on two connections of its own. */
async function isTransactionPooler(settings: PostgresSettings, warm: WarmSessions | null): Promise<boolean> {
  const ignore = () => {};
  const own = warm ? null : ([dedicatedClient(settings, 'groundwork-probe'), dedicatedClient(settings, 'groundwork-probe')] as const);
  for (const client of own ?? []) client.on('error', ignore);
  const backend = async (client: pg.Client) => Number((await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid);
  try {
    const [first, second] = own ?? (await warm!.forProbe());
    if (own) await Promise.all(own.map((client) => client.connect()));
    // One look settles the usual case: when the server sees both connections coming from the very
    // sockets this process opened, nothing sits between (a pooler reaches the server through
    // sockets of its own). Anything else (a Unix socket, a proxy, NAT) takes the probe below.
    if ((await Promise.all([first, second].map(seesOwnSocket))).every(Boolean)) return false;
    // A direct connection never shows either sign. Through a busy pooler, another client can take
    // the server connection between two statements and hand it back, hiding both once (replicas
    // starting together did): a few tries settle it.
    for (let attempt = 0; attempt < POOLER_PROBE_ATTEMPTS; attempt++) {
      const before = await backend(first);
      // A pooler hands out the server connection used last: a transaction held open on the second
      // client takes it, so the first client's next statement must go elsewhere.
      try {
        await second.query('begin');
      } catch (error) {
        if (/statement pooling/i.test((error as Error).message)) {
          throw new DatabaseUnavailableError(
            'DATABASE_URL reaches a pooler in statement mode, where transactions are not allowed. Groundwork needs transactions: use pool_mode=transaction (or session).',
          );
        }
        throw error;
      }
      const held = await backend(second);
      const after = await backend(first);
      await second.query('rollback');
      if (held === before || after !== before) return true;
    }
    return false;
  } finally {
    if (own) await Promise.all(own.map((client) => client.end().catch(ignore)));
  }
}

/** Whether the server sees this connection's client end as this process's own socket (same port and address). */
async function seesOwnSocket(client: pg.Client): Promise<boolean> {
  const socket = (client as unknown as { connection?: { stream?: { localPort?: number; localAddress?: string } } }).connection?.stream;
  if (!socket?.localPort || !socket.localAddress) return false;
  const { rows } = await client.query<{ address: string | null; port: number | null }>('select host(inet_client_addr()) as address, inet_client_port() as port');
  const plain = (address: string) => address.replace(/^::ffff:/i, '');
  return rows[0]?.port === socket.localPort && plain(rows[0].address ?? '') === plain(socket.localAddress);
}

/**
 * The connections a setup or boot uses right after connecting, opened at once: its schema session
 * (schemaTransaction) and its LISTEN connection (listen()), both to where schema work goes. Each is
 * handed out once; close() ends what was not taken.
 */
class WarmSessions {
  private schema: Promise<pg.Client> | null;
  private listen: Promise<pg.Client> | null;

  constructor(settings: PostgresSettings) {
    const open = (applicationName: string) => {
      const client = dedicatedClient(settings, applicationName);
      // Until its user listens: a dropped connection must not be an unhandled 'error' event.
      client.on('error', () => {});
      const connected = client.connect().then(
        () => client,
        async (error: unknown) => {
          await client.end().catch(() => {});
          throw error;
        },
      );
      connected.catch(() => {});
      return connected;
    };
    this.schema = open('groundwork-schema');
    this.listen = open(LISTEN_APPLICATION_NAME);
  }

  /** Both sessions, for the pooler probe (which leaves them as it found them: no transaction open). */
  forProbe(): Promise<[pg.Client, pg.Client]> {
    return Promise.all([this.listen ?? Promise.reject(new Error('taken')), this.schema ?? Promise.reject(new Error('taken'))]);
  }

  takeSchema(): Promise<pg.Client> | undefined {
    const schema = this.schema ?? undefined;
    this.schema = null;
    return schema;
  }

  takeListen(): Promise<pg.Client> | undefined {
    const listen = this.listen ?? undefined;
    this.listen = null;
    return listen;
  }

  endListen(): void {
    void this.takeListen()?.then((client) => client.end().catch(() => {}), () => {});
  }

  end(): void {
    this.endListen();
    void this.takeSchema()?.then((client) => client.end().catch(() => {}), () => {});
  }
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

  /** `connecting`: a connection opened ahead (WarmSessions), used instead of a new one. */
  async start(connecting?: Promise<pg.Client>): Promise<void> {
    if (this.stopped) {
      void connecting?.then((client) => client.end().catch(() => {}), () => {});
      return;
    }
    const client = connecting ? await connecting : dedicatedClient(this.settings, LISTEN_APPLICATION_NAME);
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.onMessage(message.payload ?? '');
    });
    client.on('error', () => this.reconnect(client));
    client.on('end', () => this.reconnect(client));
    if (!connecting) await client.connect();
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
  const urlOf = (endpoint: PostgresSettings | undefined) => (endpoint && 'connectionString' in endpoint.connection ? endpoint.connection.connectionString : undefined);
  const secrets = [settings.password, settings.direct?.password, urlOf(settings), urlOf(settings.direct)]
    .filter((secret): secret is string => !!secret);
  let message = original.message;
  for (const secret of secrets) message = message.split(secret).join('***');
  const copy = new Error(message);
  copy.name = original.name;
  Object.assign(copy, { code: (original as { code?: string }).code });
  return copy;
}
