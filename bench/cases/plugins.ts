import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { index, integer, serial, text, timestamp } from 'drizzle-orm/pg-core';
import pg from 'pg';
import type { FastifyBaseLogger } from 'fastify';
import * as schema from '../../services/backend/src/db/schema/index.ts';
import type { AppDatabase } from '../../services/backend/src/db/index.ts';
import { MIGRATIONS_DIR } from '../../services/backend/src/paths.ts';
import { definePlugin, type GroundworkPlugin } from '../../services/backend/src/plugins/define.ts';
import { PluginRegistry } from '../../services/backend/src/plugins/registry.ts';
import { ActiveDatabase } from '../../services/backend/src/db/active-database.ts';
import type { SettingsStore } from '../../services/backend/src/global-settings/store.ts';
import { alternate, freshDatabase, pairCount, spread, timeMs, type BenchCase } from '../lib.ts';

/** 50 plugins with 4 tables each (a key, text, a foreign key, an index). */
function manyPlugins(): GroundworkPlugin[] {
  return Array.from({ length: 50 }, (_, p) =>
    definePlugin({
      id: `bench${p}`,
      name: `Bench ${p}`,
      version: '1.0.0',
      tables: (table) => {
        const parent = table('parent', { id: serial('id').primaryKey(), name: text('name').notNull() });
        const make = (name: string) =>
          table(name, { id: serial('id').primaryKey(), parentId: integer('parent_id').references(() => parent.id), body: text('body'), at: timestamp('at').defaultNow() }, (t) => [
            index(`bench${p}_${name}_at_idx`).on(t.at),
          ]);
        return { parent, a: make('a'), b: make('b'), c: make('c') };
      },
    }),
  );
}

const quietLog = { info() {}, warn() {}, error() {}, debug() {}, child: () => quietLog } as unknown as FastifyBaseLogger;
const SCHEMA_CHANGE = /^\s*(create|alter|drop)\s/i;

/** #6: the plugins phase for 50 × 4 tables, first time and on an unchanged reboot, each beside the same work done raw. */
export const pluginsBench: BenchCase = {
  id: 6,
  title: 'plugin DDL, 50 plugins × 4 tables',
  async run({ quick, postgresUrl }) {
    const pairs = pairCount(quick);
    const plugins = manyPlugins();
    const registry = () => new PluginRegistry(new ActiveDatabase(), { plugins, refused: [] }, new Set(), {} as SettingsStore, quietLog);
    const statements: string[] = [];

    /** A fresh database with the core migrations applied; `work` gets it through Drizzle (logging every statement) and pg. */
    const onMigratedDatabase = async <T>(work: (db: AppDatabase, pool: pg.Pool) => Promise<T>): Promise<T> => {
      const database = await freshDatabase(postgresUrl);
      const pool = new pg.Pool({ connectionString: database.url, max: 2 });
      try {
        const db = drizzle({ client: pool, schema, logger: { logQuery: (query) => statements.push(query) } }) as unknown as AppDatabase;
        await migrate(drizzle({ client: pool }), { migrationsFolder: MIGRATIONS_DIR });
        await pool.query('select 1');
        return await work(db, pool);
      } finally {
        await pool.end();
        await database.drop();
      }
    };

    // Once, untimed: the DDL a first sync sends, for the baseline to apply directly.
    let ddl: string[] = [];
    await onMigratedDatabase(async (db) => {
      statements.length = 0;
      await registry().syncSchemas(db);
      ddl = statements.filter((query) => SCHEMA_CHANGE.test(query));
    });

    const firstTime = await alternate(
      pairs,
      () =>
        onMigratedDatabase(async (_db, pool) => {
          const client = await pool.connect();
          try {
            return await timeMs(async () => {
              await client.query('begin');
              for (const statement of ddl) await client.query(statement);
              await client.query('commit');
            });
          } finally {
            client.release();
          }
        }),
      () => onMigratedDatabase((db) => timeMs(() => registry().syncSchemas(db))),
    );

    // The unchanged reboot, on one database set up once: a new registry (same code) against the raw
    // read of the stored snapshots that deciding "nothing changed" needs at the least.
    let rebootDdl = 0;
    const reboot = await onMigratedDatabase(async (db, pool) => {
      await registry().syncSchemas(db);
      return alternate(
        pairs,
        () => timeMs(() => pool.query('select * from plugin_schemas')),
        async () => {
          statements.length = 0;
          const elapsed = await timeMs(() => registry().syncSchemas(db));
          rebootDdl = Math.max(rebootDdl, statements.filter((query) => SCHEMA_CHANGE.test(query)).length);
          return elapsed;
        },
      );
    });

    const firstRatio = firstTime.ours.median / firstTime.baseline.median;
    return [
      {
        what: '#6 plugin tables, 50 plugins × 4 tables, first setup (plugins phase)',
        baseline: `${spread(firstTime.baseline)} (the same ${ddl.length} DDL statements applied directly in one transaction)`,
        ours: spread(firstTime.ours),
        ratio: firstRatio,
        goal: '≤ 1.5×',
        met: firstRatio <= 1.5,
        note: 'ours also computes each plugin\'s DDL with drizzle-kit, applies each plugin in a transaction of its own (a savepoint during setup) and stores 50 snapshots',
      },
      {
        what: '#6 plugin tables, unchanged reboot (plugins phase)',
        baseline: `${spread(reboot.baseline)} (one raw query reading the 50 stored snapshots)`,
        ours: `${spread(reboot.ours)}, ${rebootDdl} DDL statements`,
        ratio: reboot.ours.median / reboot.baseline.median,
        goal: '0 DDL, ≤ 50 ms',
        met: rebootDdl === 0 && reboot.ours.median <= 50,
        note: 'ours reads the same snapshots and compares them with the plugins\' code',
      },
    ];
  },
};
