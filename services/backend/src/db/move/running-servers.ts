import { sql } from 'drizzle-orm';
import { LISTEN_APPLICATION_NAME } from '../drivers/postgres.ts';
import type { AppDatabase } from '../index.ts';
import { MoveRefusedError } from './errors.ts';

/**
 * Every running server keeps one LISTEN connection to its PostgreSQL database: refuses when more
 * than `own` of them are connected (`own`: 1 for a server moving itself, 0 for the CLI).
 */
export async function refuseWhileServersRun(db: AppDatabase, what: string, own = 0): Promise<void> {
  const [others] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(sql`pg_stat_activity`)
    .where(sql`datname = current_database() and application_name = ${LISTEN_APPLICATION_NAME}`);
  const running = (others?.count ?? 0) - own;
  if (running > 0) {
    const whose = own > 0 ? 'other running Groundwork server(s)' : 'running Groundwork server(s)';
    throw new MoveRefusedError(`${running} ${whose} use ${what}. Stop ${own > 0 ? 'them' : 'every server'} first, then move.`);
  }
}
