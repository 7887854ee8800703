import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

export interface TestDatabase {
  name: string;
  url: string;
  /** POSTGRES_* variables for a Groundwork server that should use this database. */
  env: Record<string, string>;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** A new, empty database on the test run's real PostgreSQL server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = new URL(inject('postgresUrl'));
  const name = `gw_test_${randomBytes(5).toString('hex')}`;
  await withClient(serverUrl.href, (client) => client.query(`create database ${name}`));
  const url = new URL(serverUrl.href);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.href,
    env: {
      POSTGRES_HOST: url.hostname,
      POSTGRES_PORT: url.port,
      POSTGRES_DATABASE: name,
      POSTGRES_USER: decodeURIComponent(url.username),
      POSTGRES_PASSWORD: decodeURIComponent(url.password),
    },
    query: async (text, values) => withClient(url.href, async (client) => (await client.query(text, values)).rows),
    drop: () => withClient(serverUrl.href, (client) => client.query(`drop database if exists ${name} with (force)`)).then(() => {}),
  };
}

export async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Names of the tables in a schema, sorted. */
export const TABLES_SQL = `select table_name from information_schema.tables where table_schema = $1 order by table_name`;
