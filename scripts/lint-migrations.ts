/**
 * Lints migration files with squawk (settings in .squawk.toml) for statements that break replicas
 * still running the previous version during a rolling upgrade (a dropped or renamed column, a new
 * required column) or lock a busy table for long (a non-concurrent index, a validated constraint, a
 * type change). A deliberate exception is marked in the migration itself, and must say why.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { REPO_ROOT } from '../services/backend/src/paths.ts';

const SQUAWK = join(REPO_ROOT, 'node_modules/.bin/squawk');
const SQUAWK_CONFIG = join(REPO_ROOT, '.squawk.toml');

const HOW_TO_FIX = [
  'A migration above can break replicas still running the previous version during a rolling upgrade,',
  'or lock a busy table for long. Split it into expand/contract steps (docs/operations.md). If it is',
  'safe here, mark it in the migration: a comment line saying why, then `-- squawk-ignore <rule>` on',
  'the line right above the statement. (Drizzle runs migrations in a transaction, where CREATE INDEX',
  'CONCURRENTLY cannot run: the doc says how to build an index on a big table.)',
].join('\n');

export interface LintResult {
  ok: boolean;
  /** What to print: squawk's findings (file, line, rule) and how to fix or mark them. */
  report: string;
}

/** Lints every `.sql` file in `folder` (a Drizzle migrations folder). */
export function lintMigrations(folder: string): LintResult {
  const absolute = resolve(folder);
  // Run from the folder's parent so findings name `drizzle/0004_x.sql`, not a long absolute path.
  const files = readdirSync(absolute)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .map((name) => join(basename(absolute), name));
  if (files.length === 0) return { ok: true, report: 'No migration files to lint.' };

  const cwd = dirname(absolute);
  const squawk = spawnSync(SQUAWK, ['--config', SQUAWK_CONFIG, ...files], { cwd, encoding: 'utf8' });
  if (squawk.error) throw new Error(`Cannot run squawk (${SQUAWK}); run \`npm ci\`: ${squawk.error.message}`);
  const findings = `${squawk.stdout}${squawk.stderr}`.trim();
  const unexplained = files.flatMap((file) => unexplainedExceptions(cwd, file));

  if (squawk.status === 0 && unexplained.length === 0) return { ok: true, report: findings };
  const parts = squawk.status === 0 ? [] : [findings, HOW_TO_FIX];
  if (unexplained.length > 0) {
    parts.push(['Each squawk exception needs its reason in the comment line right above it:', ...unexplained].join('\n'));
  }
  return { ok: false, report: parts.join('\n\n') };
}

/**
 * `-- squawk-ignore…` comments without a reason: one must stand on its own line, under at least one
 * plain comment line (Drizzle's `--> statement-breakpoint` is not one).
 */
function unexplainedExceptions(cwd: string, file: string): string[] {
  const lines = readFileSync(join(cwd, file), 'utf8').split('\n');
  const isDirective = (line: string) => /^\s*--\s*squawk-ignore/.test(line);
  const isReason = (line: string) => /^\s*--(?!>)/.test(line) && !line.includes('squawk-ignore');
  const problems: string[] = [];
  lines.forEach((line, index) => {
    if (!/--\s*squawk-ignore/.test(line)) return;
    // Several directives in a row may share the reason above the first.
    let above = index - 1;
    while (above >= 0 && isDirective(lines[above] ?? '')) above -= 1;
    if (!isDirective(line) || !isReason(lines[above] ?? '')) problems.push(`${file}:${index + 1}: ${line.trim()}`);
  });
  return problems;
}
