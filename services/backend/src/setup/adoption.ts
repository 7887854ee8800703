import { sql } from 'drizzle-orm';
import type { Config } from '../config.ts';
import { openDriver, type DriverLog } from '../db/drivers/index.ts';

/**
 * Whether the PostgreSQL server in the environment holds a Groundwork database that was already
 * set up (by another replica): then this instance adopts it instead of offering a second setup.
 * No PostgreSQL in the environment, or not set up: false. Throws when it cannot tell (the server
 * does not answer): offering the wizard then could set up a live database a second time.
 */
export async function isSetUpElsewhere(config: Config, log: DriverLog): Promise<boolean> {
  if (!config.postgres) return false;
  const driver = await openDriver('postgresql', config, log);
  try {
    const result = (await driver.db.execute(
      sql`select to_regclass('public.setup_record') is not null as present`,
    )) as unknown as { rows: { present: boolean }[] };
    if (!result.rows[0]?.present) return false;
    const records = (await driver.db.execute(sql`select count(*)::int as n from setup_record`)) as unknown as { rows: { n: number }[] };
    return (records.rows[0]?.n ?? 0) > 0;
  } catch (error) {
    throw driver.connectionLost(error) ?? error;
  } finally {
    await driver.close();
  }
}
