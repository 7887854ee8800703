/**
 * `npm run db:check`: fails when the TypeScript schema and the committed migrations in drizzle/
 * differ, i.e. when someone changed a table and forgot `npm run db:generate`, and when a migration
 * is unsafe to roll out (scripts/lint-migrations.ts). drizzle-kit exits 0 even when it fails or
 * generates, so the drift check runs it on a copy and checks both its words and the copy's files.
 * An argument names another migrations folder (tests use it); the default is drizzle/.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { REPO_ROOT } from '../services/backend/src/paths.ts';
import { lintMigrations } from './lint-migrations.ts';

const committed = resolve(process.argv[2] ?? join(REPO_ROOT, 'drizzle'));
const matchesSchema = checkDrift(committed);
const lint = lintMigrations(committed);
if (lint.ok) {
  console.log('Migrations are safe to roll out (squawk).');
} else {
  console.error(lint.report);
}
if (!matchesSchema || !lint.ok) process.exit(1);

/** True when generating from the schema would add nothing to `committed`. */
function checkDrift(committed: string): boolean {
  const scratch = mkdtempSync(join(tmpdir(), 'groundwork-drift-'));
  try {
    cpSync(committed, join(scratch, 'out'), { recursive: true });
    let output: string;
    try {
      output = execFileSync(
        join(REPO_ROOT, 'node_modules/.bin/drizzle-kit'),
        ['generate', '--dialect', 'postgresql', '--schema', join(REPO_ROOT, 'services/backend/src/db/schema/index.ts'), '--out', 'out'],
        { cwd: scratch, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string };
      output = `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
    }
    const unchanged = snapshot(committed) === snapshot(join(scratch, 'out'));
    if (!output.includes('No schema changes') || !unchanged) {
      console.error(output);
      console.error('The schema in services/backend/src/db/schema differs from the migrations in drizzle/. Run `npm run db:generate` and commit the result.');
      return false;
    }
    console.log('Migrations match the schema.');
    return true;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Every file under `folder` with its content, as one comparable string. */
function snapshot(folder: string): string {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort()
    .map((path) => `${relative(folder, path)}\n${readFileSync(path, 'utf8')}`)
    .join('\n');
}
