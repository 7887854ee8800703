import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { buildApp } from '../../services/backend/src/app.ts';
import { loadConfig } from '../../services/backend/src/config.ts';
import { MIGRATIONS_DIR } from '../../services/backend/src/paths.ts';
import { tempDir } from '../../test/helpers/temp.ts';
import { freshDatabase, medianMs, ms, timeMs, type BenchCase } from '../lib.ts';

const TOKEN = 'benchmark-setup-token-0123456789';

/** POST /api/db/setup on a fresh app, from request to 200. */
async function timeSetup(type: 'pglite' | 'postgresql', env: Record<string, string>): Promise<number> {
  const folder = tempDir('groundwork-bench-');
  const app = await buildApp(loadConfig({ ...env, PERSISTENT_DATA_DIR: folder.path, SETUP_TOKEN: TOKEN, LOG_LEVEL: 'warn', ENCRYPTION_SECRET: 'benchmark-encryption-secret-0123456789' }));
  try {
    await app.boot.start('http://localhost');
    await app.ready();
    let status = 0;
    const elapsed = await timeMs(async () => {
      status = (await app.inject({ method: 'POST', url: '/api/db/setup', headers: { 'x-setup-token': TOKEN }, payload: { type } })).statusCode;
    });
    if (status !== 200) throw new Error(`setup answered ${status}`);
    return elapsed;
  } finally {
    await app.close();
    folder.remove();
  }
}

/** Every statement of the committed migrations, in order. */
function migrationStatements(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .flatMap((file) => readFileSync(join(MIGRATIONS_DIR, file), 'utf8').split('--> statement-breakpoint'));
}

/** #2 and #3: a whole setup against the least a setup must do. */
export const setupBench: BenchCase = {
  id: 2,
  title: 'setup, POST to 200',
  async run({ quick, postgresUrl }) {
    const rounds = quick ? 1 : 5;

    const oursPostgres = await medianMs(rounds, async () => {
      const database = await freshDatabase(postgresUrl);
      try {
        return await timeSetup('postgresql', database.env);
      } finally {
        await database.drop();
      }
    });
    const baselinePostgres = await medianMs(rounds, async () => {
      const database = await freshDatabase(postgresUrl);
      try {
        return await timeMs(async () => {
          const client = new pg.Client({ connectionString: database.url });
          await client.connect();
          await client.query('begin');
          for (const statement of migrationStatements()) await client.query(statement);
          await client.query('commit');
          await client.end();
        });
      } finally {
        await database.drop();
      }
    });

    const oursPglite = await medianMs(rounds, () => timeSetup('pglite', {}));
    const baselinePglite = await medianMs(rounds, async () => {
      const folder = tempDir('groundwork-bench-');
      try {
        return await timeMs(async () => {
          const client = await PGlite.create(join(folder.path, 'pglite'));
          await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_DIR });
          await client.close();
        });
      } finally {
        folder.remove();
      }
    });

    const postgresRatio = oursPostgres / baselinePostgres;
    const pgliteRatio = oursPglite / baselinePglite;
    return [
      {
        what: '#2 setup on PostgreSQL: POST /api/db/setup to 200',
        baseline: `${ms(baselinePostgres)} (connect + the migration SQL in one transaction with pg)`,
        ours: ms(oursPostgres),
        ratio: postgresRatio,
        goal: '≤ 1.3×',
        met: postgresRatio <= 1.3,
        note: 'what bounds the rest is work setup must do and the baseline does not: connect ~12 ms (pool, ping), migrate ~37 ms (advisory lock on its own connection, Drizzle\'s schema, bookkeeping table and rows), settings ~15 ms (key check, two seed statements, load; the LISTEN connection opens meanwhile), commit ~6 ms (setup record, admin token transaction, selection file written with fsync), and plugins: the two example plugins\' tables, whose DDL drizzle-kit computes (loading it is most of the gap since plugins landed). Seeding was 4× slower before it moved to unnest() arrays',
      },
      {
        what: '#3 setup on PGlite: POST /api/db/setup to 200',
        baseline: `${ms(baselinePglite)} (PGlite create + Drizzle migrate)`,
        ours: ms(oursPglite),
        ratio: pgliteRatio,
        goal: '≤ 1.2×',
        met: pgliteRatio <= 1.2,
        note: 'initdb runs in a worker thread so that its ~0.8 GB WebAssembly heap is freed when it ends (see #7); the price is starting PGlite a second time (~0.4 s) on the first setup only',
      },
    ];
  },
};
