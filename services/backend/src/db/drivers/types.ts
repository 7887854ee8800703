import type { Writable } from 'node:stream';
import type { PGlite } from '@electric-sql/pglite';
import type { DatabaseType } from '../../config.ts';
import type { DatabaseUnavailableError } from '../../errors.ts';
import type { AppDatabase } from '../index.ts';
import type { SchemaComparison } from '../migrations.ts';

/**
 * What setup needs from a database, whichever driver is behind it.
 * `open*` functions connect and test before they return one, so a driver always works when handed out.
 */
export interface DatabaseDriver {
  readonly type: DatabaseType;
  readonly db: AppDatabase;
  /** Where the data lives, for messages: "host:port/database" or a folder. */
  readonly target: string;
  /** PGlite only: the embedded instance itself, for what runs on it directly (pg_dump in WebAssembly). */
  readonly pglite?: PGlite;
  /** Throws if the database does not answer within `timeoutMs`. */
  ping(timeoutMs: number): Promise<void>;
  /** The error as a 503 naming where the database is, when it means the connection was lost; else null. */
  connectionLost(error: unknown): DatabaseUnavailableError | null;
  /**
   * Exclusive access for schema changes across every process that shares this database, on a
   * session of its own (the command-line tools). Refused through a transaction pooler without a direct URL.
   */
  lock(): Promise<ExclusiveSession>;
  /**
   * Exclusive access for schema changes as ONE transaction that takes the schema lock first
   * (PostgreSQL: a transaction-scoped advisory lock, so it works through a transaction pooler, on
   * the same lock as lock()). Nothing is kept unless it is committed.
   */
  schemaTransaction(): Promise<SchemaTransaction>;
  /**
   * How changes made by other processes are heard: 'listen' (LISTEN/NOTIFY through listen()),
   * or 'poll' (only a transaction pooler to talk to, where LISTEN cannot stay on one connection).
   */
  readonly changeFeed: 'listen' | 'poll';
  /**
   * Calls `onMessage` with the payload of every NOTIFY on `channel`, and with '*' after a lost
   * connection came back (messages may have been missed). Stops when the driver closes.
   */
  listen(channel: string, onMessage: (payload: string) => void): Promise<void>;
  /** The connection pool right now, for metrics; absent for a driver without a pool (PGlite). */
  poolStats?(): PoolStats;
  /** Closes connections; with `discardNew`, also removes data this driver created when it opened. */
  close(options?: { discardNew?: boolean }): Promise<void>;
}

interface PoolStats {
  /** Connections open, idle or in use. */
  total: number;
  idle: number;
  /** Queries waiting for a free connection. */
  waiting: number;
}

export interface ExclusiveSession {
  /** A database bound to the locked connection: use it for everything done under the lock. */
  readonly db: AppDatabase;
  /**
   * Applies pending migrations as boot does (applyMigrations): none when the database is ahead;
   * throws SchemaDivergedError, changing nothing, on a diverged history.
   */
  migrate(): Promise<SchemaComparison>;
  /**
   * PostgreSQL only: runs `COPY … FROM STDIN` on the locked connection (inside its open
   * transaction, if any) and returns the stream to write COPY text into; it finishes once the
   * server has taken every row. The bulk path of a move.
   */
  copyFrom?(statement: string): Writable;
  release(): Promise<void>;
}

export interface SchemaTransaction {
  /** A database bound to the open transaction: `db.transaction()` on it makes a savepoint. */
  readonly db: AppDatabase;
  /** Applies pending migrations inside the transaction (Drizzle's bookkeeping, see applyMigrations); none when the database is ahead. */
  migrate(): Promise<SchemaComparison>;
  /** Commits and ends: the lock goes with the transaction. */
  commit(): Promise<void>;
  /** Rolls back everything done in it and ends; never throws. */
  abort(): Promise<void>;
}

/** The little a driver logs: connections lost in the background, the PGlite socket. Fastify's logger fits, so does console. */
export interface DriverLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}
