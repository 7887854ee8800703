import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import type { DatabaseType } from '../../config.ts';

/** The little backup and restore need from a database, whichever kind: a query, and a multi-statement script. */
export interface SqlConnection {
  readonly type: DatabaseType;
  query<T>(text: string): Promise<T[]>;
  /** Runs several statements in one go (the simple query protocol), returning nothing. */
  execute(script: string): Promise<void>;
}

/** A PGlite, or one of its transactions (they answer the same two calls). */
export function pgliteConnection(client: Pick<PGlite, 'query' | 'exec'>): SqlConnection {
  return {
    type: 'pglite',
    query: async <T>(text: string) => (await client.query<T>(text)).rows,
    execute: async (script) => {
      await client.exec(script);
    },
  };
}

/** A node-postgres client (not a pool: restore's transaction must stay on one connection). */
export function postgresConnection(client: pg.ClientBase): SqlConnection {
  return {
    type: 'postgresql',
    query: async <T>(text: string) => (await client.query(text)).rows as T[],
    execute: async (script) => {
      await client.query(script);
    },
  };
}
