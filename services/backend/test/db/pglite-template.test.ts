import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { MIGRATION_TAGS } from '../../../../test/helpers/migrations.ts';
import { tempDir } from '../../../../test/helpers/temp.ts';
import { MIGRATIONS_DIR } from '../../src/paths.ts';
import {
  createPgliteCluster,
  DEFAULT_TEMPLATE_SOURCE,
  EMPTY_TEMPLATE_SOURCE,
  ensurePgliteTemplate,
  templatePath,
  type TemplateSource,
} from '../../src/db/drivers/pglite-template.ts';

/** initdb writes a random system identifier into pg_control (its first 8 bytes): copies of one cluster share it. */
const systemIdentifier = (dataDir: string) => readFileSync(join(dataDir, 'global', 'pg_control')).subarray(0, 8).toString('hex');

/** Opens a copy of a template (a template itself is never opened: that would write to it). */
async function openCopy(template: string, scratch: string): Promise<PGlite> {
  const copy = join(scratch, `copy-${Math.random().toString(36).slice(2)}`);
  cpSync(template, copy, { recursive: true });
  return PGlite.create(copy);
}

const appliedMigrations = async (pg: PGlite) =>
  (await pg.query<{ count: number }>('select count(*)::int as count from drizzle.__drizzle_migrations')).rows[0]!.count;

const silentLog = { info() {}, warn() {}, error() {} };

describe('a PGlite setup from the template', () => {
  const apps: TestApp[] = [];
  const scratch = tempDir();
  afterAll(async () => {
    for (const t of apps) await t.close();
    scratch.remove();
  });

  it('copies the template instead of running initdb: migrated, private, and two instances share nothing', async () => {
    for (let index = 0; index < 2; index++) {
      const t = await startApp();
      apps.push(t);
      expect((await t.setUp('pglite')).statusCode).toBe(200);
      expect(t.logs.some((line) => line.includes('Created the embedded database') && line.includes('"madeWith":"template"'))).toBe(true);
    }
    const [first, second] = apps as [TestApp, TestApp];
    const template = templatePath(DEFAULT_TEMPLATE_SOURCE);
    // Both are copies of the template (initdb would have given each a random identifier of its own).
    expect(systemIdentifier(join(first.dataDir, 'pglite'))).toBe(systemIdentifier(template));
    expect(systemIdentifier(join(second.dataDir, 'pglite'))).toBe(systemIdentifier(template));

    // Private as if initdb had made it: the template's 0644 copies are made 0600 in a 0700 folder.
    const modeOf = (path: string) => statSync(path).mode & 0o777;
    expect([modeOf(join(first.dataDir, 'pglite')), modeOf(join(first.dataDir, 'pglite', 'base')), modeOf(join(first.dataDir, 'pglite', 'PG_VERSION'))]).toEqual([0o700, 0o700, 0o600]);

    const firstPg = first.app.activeDatabase.current!.pglite!;
    const secondPg = second.app.activeDatabase.current!.pglite!;
    // Every migration applied once: the migrate phase found nothing to do.
    expect(await appliedMigrations(firstPg)).toBe(MIGRATION_TAGS.length);
    // Each instance made its own secrets and its own record; a write to one is not in the other.
    const keyIds = async (pg: PGlite) => (await pg.query<{ key_id: string }>('select key_id from settings_encryption')).rows.map((row) => row.key_id);
    const [firstKey] = await keyIds(firstPg);
    expect(firstKey).toEqual(expect.any(String));
    expect(await keyIds(secondPg)).toEqual([expect.not.stringMatching(`^${firstKey}$`)]);
    await firstPg.query(`insert into notes_notes (title) values ('only in the first')`);
    expect((await secondPg.query('select * from notes_notes')).rows).toEqual([]);
    expect((await secondPg.query('select * from admin_tokens')).rows).toHaveLength(1);
  });

  it('holds the schema only: no setup record, settings, key salt or token that instances would share', async () => {
    const pg = await openCopy(await ensurePgliteTemplate(), scratch.path);
    try {
      const tables = (await pg.query<{ name: string }>(`select table_name as name from information_schema.tables where table_schema = 'public'`)).rows;
      expect(tables.map((table) => table.name)).toEqual(expect.arrayContaining(['setup_record', 'admin_tokens', 'settings_encryption', 'global_settings']));
      for (const { name } of tables) {
        expect({ name, rows: (await pg.query(`select count(*)::int as count from "${name}"`)).rows[0] }).toEqual({ name, rows: { count: 0 } });
      }
      expect(await appliedMigrations(pg)).toBe(MIGRATION_TAGS.length);
    } finally {
      await pg.close();
    }
  });
});

describe('the template store', () => {
  let folder: ReturnType<typeof tempDir>;
  beforeEach(() => {
    folder = tempDir();
  });
  afterEach(() => folder.remove());

  it('makes a template again when the migrations change, and when it is missing', async () => {
    const migrationsFolder = join(folder.path, 'drizzle');
    cpSync(MIGRATIONS_DIR, migrationsFolder, { recursive: true });
    const source: TemplateSource = { root: join(folder.path, 'templates'), migrationsFolder };
    const current = await ensurePgliteTemplate(source);

    // A release with one more migration: the old template is stale, a new one is made beside it.
    const journalPath = join(migrationsFolder, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { idx: number; when: number; tag: string }[] };
    const last = journal.entries.at(-1)!;
    journal.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag: '9999_template_test' });
    writeFileSync(journalPath, JSON.stringify(journal));
    writeFileSync(join(migrationsFolder, '9999_template_test.sql'), 'CREATE TABLE "template_test" ("id" integer);');
    const next = await ensurePgliteTemplate(source);
    expect(next).not.toBe(current);
    const pg = await openCopy(next, folder.path);
    try {
      expect(await appliedMigrations(pg)).toBe(MIGRATION_TAGS.length + 1);
      expect((await pg.query('select * from template_test')).rows).toEqual([]);
    } finally {
      await pg.close();
    }

    // Removed (a cleaned build folder): made again at the next use.
    rmSync(next, { recursive: true });
    expect(await ensurePgliteTemplate(source)).toBe(next);
    expect(existsSync(join(next, 'PG_VERSION'))).toBe(true);
  });

  it('gives a move or a restore an empty cluster (they refuse one with tables), from its own template', async () => {
    const dataDir = join(folder.path, 'pglite');
    mkdirSync(dataDir, { mode: 0o700 });
    expect(await createPgliteCluster(dataDir, silentLog, EMPTY_TEMPLATE_SOURCE)).toBe('template');
    const pg = await PGlite.create(dataDir);
    try {
      const tables = await pg.query(`select table_schema, table_name from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')`);
      expect(tables.rows).toEqual([]);
    } finally {
      await pg.close();
    }
  });

  it('falls back to initdb and the migrations when no template can be made', async () => {
    // A file where the template folder should be: nothing can be made under it.
    const root = join(folder.path, 'not-a-folder');
    writeFileSync(root, '');
    const dataDir = join(folder.path, 'pglite');
    mkdirSync(dataDir, { mode: 0o700 });
    writeFileSync(join(dataDir, 'groundwork.lock'), String(process.pid));
    const warnings: string[] = [];
    const log = { ...silentLog, warn: (_details: object, message: string) => void warnings.push(message) };

    expect(await createPgliteCluster(dataDir, log, { root, migrationsFolder: MIGRATIONS_DIR })).toBe('initdb');
    expect(warnings).toEqual([expect.stringMatching(/template could not be used; creating the database with initdb/)]);
    // What was in the folder before is kept (the lock file); the cluster is complete and migrated.
    expect(readFileSync(join(dataDir, 'groundwork.lock'), 'utf8')).toBe(String(process.pid));
    rmSync(join(dataDir, 'groundwork.lock'));
    const pg = await PGlite.create(dataDir);
    try {
      expect(await appliedMigrations(pg)).toBe(MIGRATION_TAGS.length);
    } finally {
      await pg.close();
    }
  });
});
