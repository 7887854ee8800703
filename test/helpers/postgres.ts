import { inject } from 'vitest';
import { createDatabase, type ScratchDatabase } from '../support/databases.ts';

export type TestDatabase = ScratchDatabase;

/** A new, empty database on the test run's real PostgreSQL server. */
export function createTestDatabase(): Promise<TestDatabase> {
  return createDatabase(inject('postgresUrl'));
}

/** Names of the tables in a schema, sorted. */
export const TABLES_SQL = `select table_name from information_schema.tables where table_schema = $1 order by table_name`;
