import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { expectSecretReadsBack, instanceWithData, killMoveAt, runMove, selectedType, USER_TABLES_SQL } from '../helpers/move.ts';
import { startApp } from '../helpers/app.ts';
import { tempDir } from '../helpers/temp.ts';

const MARKER = 'groundwork-move-incomplete';

// GROUNDWORK_MOVE_PAUSE_AT makes the CLI stop when a stage begins: `copying` once the schema is
// built, `verifying` once every row is copied (both uncommitted), `switching` once the copy committed.
describe('db:move killed with SIGKILL in each stage', () => {
  let database: TestDatabase;
  let folder: ReturnType<typeof tempDir>;
  let env: Record<string, string>;
  beforeEach(async () => {
    database = await createTestDatabase();
    folder = tempDir();
    env = { ...database.env, PERSISTENT_DATA_DIR: folder.path };
  });
  afterEach(async () => {
    await database.drop();
    folder.remove();
  });

  it('PGlite → PostgreSQL: the instance stays on PGlite with nothing lost, the target stays empty, the move runs again', async () => {
    await instanceWithData(env, folder.path, 'pglite');
    for (const stage of ['building', 'copying', 'verifying']) {
      await killMoveAt(stage, env, ['--to', 'postgresql']);
      expect(selectedType(folder.path)).toBe('pglite');
      expect(existsSync(join(folder.path, 'pglite', 'PG_VERSION'))).toBe(true);
      expect(await database.query(USER_TABLES_SQL), stage).toEqual([]);
    }
    // Committed but not switched: still on PGlite; the run again finds the exact copy and switches.
    await killMoveAt('switching', env, ['--to', 'postgresql']);
    expect(selectedType(folder.path)).toBe('pglite');
    expect(readdirSync(folder.path)).toContain('pglite');

    const again = await runMove(env, ['--to', 'postgresql']);
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toMatch(/already holds an exact copy/);
    expect(selectedType(folder.path)).toBe('postgresql');
    expect(readdirSync(folder.path).filter((name) => name.startsWith('pglite'))).toEqual([expect.stringMatching(/^pglite\.moved-/)]);
    expect(await database.query(`select title from notes_notes order by id`)).toEqual([{ title: 'first' }, { title: 'second' }]);
    await expectSecretReadsBack(env, folder.path);
  });

  it('PostgreSQL → PGlite: the half-made folder is marked, the instance stays on PostgreSQL, the move runs again', async () => {
    await instanceWithData(env, folder.path, 'postgresql');
    for (const stage of ['copying', 'switching']) {
      await killMoveAt(stage, env, ['--to', 'pglite']);
      expect(selectedType(folder.path)).toBe('postgresql');
      expect(readdirSync(join(folder.path, 'pglite')), stage).toContain(MARKER);
    }
    const again = await runMove(env, ['--to', 'pglite']);
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(selectedType(folder.path)).toBe('pglite');
    expect(readdirSync(join(folder.path, 'pglite'))).not.toContain(MARKER);
    // The PostgreSQL database is left as it was.
    expect((await database.query(USER_TABLES_SQL)).length).toBeGreaterThan(5);

    await expectSecretReadsBack(env, folder.path);
    const t = await startApp(env, { dataDir: folder.path });
    try {
      const rows = await t.app.activeDatabase.db.execute(sql`select id, title from notes_notes order by id`);
      expect((rows as unknown as { rows: unknown[] }).rows).toEqual([
        { id: 1, title: 'first' },
        { id: 2, title: 'second' },
      ]);
    } finally {
      await t.close();
    }
  });
});
