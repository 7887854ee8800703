import type { PGlite } from '@electric-sql/pglite';
import type { DatabaseType } from '../../config.ts';
import type { DatabaseUnavailableError } from '../../errors.ts';
import type { AppDatabase } from '../index.ts';

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
  /** Exclusive access for schema changes across every process that shares this database. */
  lock(): Promise<ExclusiveSession>;
  /**
   * Calls `onMessage` with the payload of every NOTIFY on `channel`, and with '*' after a lost
   * connection came back (messages may have been missed). Stops when the driver closes.
   */
  listen(channel: string, onMessage: (payload: string) => void): Promise<void>;
  /** Closes connections; with `discardNew`, also removes data this driver created when it opened. */
  close(options?: { discardNew?: boolean }): Promise<void>;
}

export interface ExclusiveSession {
  /** A database bound to the locked connection: use it for everything done under the lock. */
  readonly db: AppDatabase;
  /** Applies pending migrations from the migrations folder with Drizzle's migrator. */
  migrate(): Promise<void>;
  release(): Promise<void>;
}

/** The little a driver logs: connections lost in the background, the PGlite socket. Fastify's logger fits, so does console. */
export interface DriverLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}
