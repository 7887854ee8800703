import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Config, DatabaseType } from '../config.ts';
import { openDriver, PostgresNotConfiguredError } from '../db/drivers/index.ts';
import { withTimeout } from '../db/drivers/timeout.ts';
import { AppError, DatabaseUnavailableError, rootMessage } from '../errors.ts';
import type { ConnectionTestResult, DatabaseEnvironment } from '../schemas/database.ts';

const TEST_QUERY_TIMEOUT_MS = 5_000;


/**
 * The wizard's "Test connection": connects with one connection, asks the version, closes. Changes
 * nothing (no selection file, no state, no migrations). The caller checks the setup token first.
 */
export async function testConnection(config: Config, log: FastifyBaseLogger, type: DatabaseType): Promise<ConnectionTestResult> {
  if (type === 'pglite') {
    return { ok: true, type, version: 'PGlite (embedded PostgreSQL, runs inside the server; nothing to connect to)', round_trip_ms: 0 };
  }
  const postgres = config.postgres;
  if (!postgres) throw new PostgresNotConfiguredError();
  const hostPort = `${postgres.target.host}:${postgres.target.port}`;
  const driver = await openDriver(type, { ...config, poolMax: 1 }, log);
  try {
    const started = performance.now();
    const result = await withTimeout(driver.db.execute(sql`select version() as version`), TEST_QUERY_TIMEOUT_MS, `no answer within ${TEST_QUERY_TIMEOUT_MS / 1000} s`);
    const roundTripMs = Math.round((performance.now() - started) * 10) / 10;
    // Both drivers answer raw SQL with `{ rows }`; the pg-core type leaves the shape open.
    const version = (result as { rows?: { version?: unknown }[] }).rows?.[0]?.version;
    log.info({ target: driver.target, ms: roundTripMs }, 'Connection test to PostgreSQL succeeded');
    return { ok: true, type, version: typeof version === 'string' ? version : 'unknown', round_trip_ms: roundTripMs };
  } catch (error) {
    if (error instanceof AppError) throw error;
    const detail = postgres.password ? rootMessage(error).split(postgres.password).join('***') : rootMessage(error);
    throw new DatabaseUnavailableError(`PostgreSQL at ${hostPort} did not answer the test query: ${detail}`);
  } finally {
    await driver.close().catch((error: unknown) => log.warn({ err: error }, 'Closing the test connection failed'));
  }
}

/** The PostgreSQL settings the server read from its environment, for the wizard to show; never the password. */
export function databaseEnvironment(config: Config): DatabaseEnvironment {
  const postgres = config.postgres;
  if (!postgres) return { postgresql: { configured: false } };
  const { host, port, database, user, ssl } = postgres.target;
  return { postgresql: { configured: true, host, port, database, user, ssl } };
}
