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
import { freshDatabase, medianMs, ms, timeMs, type BenchCase } from '../lib.ts';

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

/** #6: the plugins phase for 50 × 4 tables, first time and on an unchanged reboot, against the same DDL applied directly. */
export const pluginsBench: BenchCase = {
  id: 6,
  title: 'plugin DDL, 50 plugins × 4 tables',
  async run({ quick, postgresUrl }) {
    const rounds = quick ? 1 : 5;
    const plugins = manyPlugins();
    const registry = () => new PluginRegistry(new ActiveDatabase(), { plugins, refused: [] }, new Set(), {} as SettingsStore, quietLog);
    const statements: string[] = [];

    const measure = async (work: (db: AppDatabase, pool: pg.Pool) => Promise<number>) => {
      const database = await freshDatabase(postgresUrl);
      const pool = new pg.Pool({ connectionString: database.url, max: 2 });
      try {
        const db = drizzle({ client: pool, schema, logger: { logQuery: (query) => statements.push(query) } }) as unknown as AppDatabase;
        await migrate(drizzle({ client: pool }), { migrationsFolder: MIGRATIONS_DIR });
        return await work(db, pool);
      } finally {
        await pool.end();
        await database.drop();
      }
    };

    const firstTime = await medianMs(rounds, () => measure((db) => timeMs(() => registry().syncSchemas(db))));
    let ddl: string[] = [];
    let reboot = { ms: 0, ddl: 0 };
    const baseline = await medianMs(rounds, () =>
      measure(async (db, pool) => {
        const plugins = registry();
        statements.length = 0;
        await plugins.syncSchemas(db);
        ddl = statements.filter((query) => /^\s*(create|alter)\s/i.test(query));
        // The unchanged reboot: a new registry, same code, same database.
        statements.length = 0;
        const rebootMs = await timeMs(() => registry().syncSchemas(db));
        reboot = { ms: rebootMs, ddl: statements.filter((query) => /^\s*(create|alter|drop)\s/i.test(query)).length };
        // Baseline: the same DDL straight into a fresh schema, one transaction.
        await pool.query('create schema direct; set search_path = direct');
        const client = await pool.connect();
        try {
          return await timeMs(async () => {
            await client.query('begin; set local search_path = direct');
            for (const statement of ddl) await client.query(statement.replaceAll('"public".', '"direct".'));
            await client.query('commit');
          });
        } finally {
          client.release();
        }
      }),
    );

    const ratio = firstTime / baseline;
    return [
      {
        what: '#6 plugin tables, 50 plugins × 4 tables, first setup (plugins phase)',
        baseline: `${ms(baseline)} (the same ${ddl.length} DDL statements applied directly in one transaction)`,
        ours: ms(firstTime),
        ratio,
        goal: '— (reported)',
        met: true,
        note: 'ours also diffs each plugin with drizzle-kit, runs one transaction per plugin and stores 50 snapshots',
      },
      {
        what: '#6 plugin tables, unchanged reboot (plugins phase)',
        baseline: '—',
        ours: `${ms(reboot.ms)}, ${reboot.ddl} DDL statements`,
        ratio: null,
        goal: '0 DDL, ≤ 50 ms',
        met: reboot.ddl === 0 && reboot.ms <= 50,
      },
    ];
  },
};
