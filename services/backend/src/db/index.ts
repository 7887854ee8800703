import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { DatabaseNotReadyError } from '../errors.ts';
import { ActiveDatabase } from './active-database.ts';
import type * as schema from './schema/index.ts';

export { DatabaseNotReadyError };

/** The Drizzle database every driver gives: pg-core types, the core schema attached. */
export type AppDatabase = PgDatabase<PgQueryResultHKT, typeof schema>;

/**
 * The active database of the app serving the current request (outside a request: of the first app
 * in this process that became ready). Throws DatabaseNotReadyError (a 503 for HTTP callers) until
 * setup or boot has connected and migrated it; it never hands out a database that is not ready.
 */
export function getDb(): AppDatabase {
  const owner = ActiveDatabase.forCaller();
  if (!owner) throw new DatabaseNotReadyError();
  return owner.db;
}
