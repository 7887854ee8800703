import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { DatabaseNotReadyError } from '../errors.ts';
import type * as schema from './schema/index.ts';

export { DatabaseNotReadyError };

/** The Drizzle database every driver gives: pg-core types, the core schema attached. */
export type AppDatabase = PgDatabase<PgQueryResultHKT, typeof schema>;

let active: AppDatabase | null = null;

/**
 * The active database. Throws DatabaseNotReadyError (a 503 for HTTP callers) until setup or boot
 * has connected and migrated it; it never hands out a database that is not ready.
 */
export function getDb(): AppDatabase {
  if (!active) throw new DatabaseNotReadyError();
  return active;
}

/** Called by the setup service only: when a database becomes ready, and with null when it closes. */
export function setActiveDatabase(db: AppDatabase | null): void {
  active = db;
}
