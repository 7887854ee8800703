import { execFile } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify, stripVTControlCharacters } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, REPO_ROOT } from '../../services/backend/src/paths.ts';
import { lintMigrations } from '../../scripts/lint-migrations.ts';
import { tempDir } from '../helpers/temp.ts';

const run = promisify(execFile);

/** squawk colours its report and links rule names even into a pipe; plain text is easier to match. */
const plain = stripVTControlCharacters;

describe('migration lint (squawk, part of npm run db:check)', () => {
  let folder: ReturnType<typeof tempDir>;
  let migrations: string;
  beforeEach(() => {
    folder = tempDir('groundwork-migration-lint-');
    migrations = join(folder.path, 'drizzle');
    cpSync(MIGRATIONS_DIR, migrations, { recursive: true });
  });
  afterEach(() => folder.remove());

  const addMigration = (sql: string) => writeFileSync(join(migrations, '0099_next.sql'), sql);

  it('passes the committed migrations', () => {
    const result = lintMigrations(migrations);
    expect(result.ok, plain(result.report)).toBe(true);
  });

  it('fails a dropped column and a non-concurrent index, naming file, line and rule', () => {
    addMigration('ALTER TABLE admin_tokens DROP COLUMN created_at;--> statement-breakpoint\nCREATE INDEX foo ON global_settings (key);\n');
    const result = lintMigrations(migrations);
    const report = plain(result.report);
    expect(result.ok).toBe(false);
    expect(report).toContain('ban-drop-column');
    expect(report).toContain('drizzle/0099_next.sql:1:');
    expect(report).toContain('require-concurrent-index-creation');
    expect(report).toContain('drizzle/0099_next.sql:2:');
    expect(report).toContain('-- squawk-ignore <rule>');
  });

  it('accepts an exception marked with its reason, and refuses one without', () => {
    addMigration(
      '-- global_settings holds a few dozen rows: the write lock lasts milliseconds.\n-- squawk-ignore require-concurrent-index-creation\nCREATE INDEX foo ON global_settings (key);\n',
    );
    const explained = lintMigrations(migrations);
    expect(explained.ok, plain(explained.report)).toBe(true);

    addMigration('ALTER TABLE admin_tokens ADD COLUMN note text;--> statement-breakpoint\n-- squawk-ignore require-concurrent-index-creation\nCREATE INDEX foo ON global_settings (key);\n');
    const unexplained = lintMigrations(migrations);
    expect(unexplained.ok).toBe(false);
    expect(plain(unexplained.report)).toContain('drizzle/0099_next.sql:2: -- squawk-ignore require-concurrent-index-creation');
  });

  it('makes `npm run db:check` fail on an unsafe migration, after its drift check', async () => {
    addMigration('ALTER TABLE "admin_tokens" ADD COLUMN "owner" text NOT NULL;\n');
    const failed = await run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts/check-migrations.ts'), migrations], { cwd: REPO_ROOT }).then(
      () => null,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stdout).toContain('Migrations match the schema.');
    expect(plain(failed?.stderr ?? '')).toContain('adding-required-field');
  });
});
