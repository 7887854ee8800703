import { join } from 'node:path';
import type { Config, DatabaseType } from '../../config.ts';
import { AppError } from '../../errors.ts';
import type { DatabaseDriver, DriverLog } from './types.ts';

export type { DatabaseDriver, DriverLog, ExclusiveSession, SchemaTransaction } from './types.ts';

export class PostgresNotConfiguredError extends AppError {
  constructor() {
    super(
      400,
      'postgresql_not_configured',
      'The server has no PostgreSQL settings. Set DATABASE_URL, or POSTGRES_HOST, POSTGRES_PORT, POSTGRES_DATABASE, POSTGRES_USER and POSTGRES_PASSWORD, then restart the server; or choose "pglite".',
    );
  }
}

export function pgliteDataDir(config: Config): string {
  return join(config.persistentDataDir, 'pglite');
}

export interface OpenOptions {
  /**
   * A PGlite folder that does not exist yet is created holding this release's tables ('migrated',
   * for setup: faster than migrating a bare one) or nothing ('empty', the default: a move or a
   * restore refuses a target with tables).
   */
  newPglite?: 'migrated' | 'empty';
  /**
   * Setup and boot: PostgreSQL connects the schema session and the LISTEN connection while it
   * checks the server (the pooler probe runs on them), instead of one after another later.
   */
  forSetup?: boolean;
}

/**
 * Connects to the chosen database and checks that it answers. Each driver is loaded only when
 * chosen: a PostgreSQL server never loads PGlite's WebAssembly build, and the other way round.
 */
export async function openDriver(type: DatabaseType, config: Config, log: DriverLog, options: OpenOptions = {}): Promise<DatabaseDriver> {
  if (type === 'pglite') {
    const newCluster = options.newPglite ?? 'empty';
    return (await import('./pglite.ts')).openPglite(pgliteDataDir(config), { socketPort: config.pgliteSocketPort, log, newCluster });
  }
  if (!config.postgres) throw new PostgresNotConfiguredError();
  return (await import('./postgres.ts')).openPostgres(config.postgres, { max: config.poolMax, queryTimeoutMs: config.queryTimeoutMs }, log, options.forSetup === true);
}
