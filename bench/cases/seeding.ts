import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from '../../services/backend/src/db/schema/index.ts';
import { seedSettings } from '../../services/backend/src/global-settings/seed.ts';
import { MIGRATIONS_DIR } from '../../services/backend/src/paths.ts';
import { thousandSettings } from '../../test/support/generated-settings.ts';
import { alternate, freshDatabase, pairCount, spread, timeMs, type BenchCase } from '../lib.ts';

const { groups: GROUPS, settings: SETTINGS } = thousandSettings();

/** #5: seeding 1,000 definitions into an empty database vs one raw multi-row INSERT of the same rows. */
export const seedingBench: BenchCase = {
  id: 5,
  title: 'settings seeding, 1,000 definitions',
  async run({ quick, postgresUrl }) {
    const pairs = pairCount(quick);
    const onFreshDatabase = async (timedWork: (pool: pg.Pool) => Promise<number>) => {
      const database = await freshDatabase(postgresUrl);
      const pool = new pg.Pool({ connectionString: database.url, max: 1 });
      try {
        await migrate(drizzle({ client: pool, schema }), { migrationsFolder: MIGRATIONS_DIR });
        await pool.query('select 1');
        return await timedWork(pool);
      } finally {
        await pool.end();
        await database.drop();
      }
    };

    const { ours, baseline } = await alternate(
      pairs,
      () =>
        onFreshDatabase(async (pool) => {
          // The groups are not timed here: the baseline is the one INSERT of the 1,000 setting rows.
          await pool.query(`insert into global_setting_groups (id, name, description, sort_order) select 'group' || g, 'Group', 'x', g from generate_series(0, 9) g`);
          const values: unknown[] = [];
          const rows = SETTINGS.map((s, i) => {
            values.push(s.key, s.groupId, s.name, s.description, s.type, false);
            const p = i * 6;
            return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6})`;
          });
          const started = performance.now();
          await pool.query(`insert into global_settings (key, group_id, name, description, type, is_encrypted) values ${rows.join(', ')}`, values);
          return performance.now() - started;
        }),
      () =>
        onFreshDatabase((pool) => {
          const database = drizzle({ client: pool, schema });
          return timeMs(() => seedSettings(database, GROUPS, SETTINGS));
        }),
    );
    const ratio = ours.median / baseline.median;
    return [
      {
        what: '#5 seed 1,000 setting definitions (10 groups) into an empty PostgreSQL database',
        baseline: `${spread(baseline)} (one raw multi-row INSERT of the settings rows)`,
        ours: `${spread(ours)} (groups upsert + settings upsert)`,
        ratio,
        goal: '≤ 1.5×',
        met: ratio <= 1.5,
        note: 'each sample on a fresh database; ours also writes the 10 group rows, the baseline does not',
      },
    ];
  },
};
