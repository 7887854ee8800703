/**
 * `npm run bench`: every benchmark beside its baseline, measured in the same run on the same
 * machine, reported as a ratio; rewrites BENCHMARKS.md. `npm run bench -- --quick` runs a small
 * version of each (CI uses it so they keep working) and writes nothing. Never fails on a timing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../services/backend/src/paths.ts';
import { startPostgres } from '../test/support/start-postgres.ts';
import { backupBench, moveBench, removePreparedInstance } from './cases/move.ts';
import { bootBench } from './cases/boot.ts';
import { pluginsBench } from './cases/plugins.ts';
import { seedingBench } from './cases/seeding.ts';
import { setupBench } from './cases/setup.ts';
import { statusBench } from './cases/status.ts';
import { statusDuringSetupBench } from './cases/status-during-setup.ts';
import { wizardSizeBench } from './cases/wizard-size.ts';
import { buildBackend, COMPILED_SERVER, pairCount, type BenchResult } from './lib.ts';

const CASES = [statusBench, setupBench, bootBench, seedingBench, pluginsBench, wizardSizeBench, statusDuringSetupBench, moveBench, backupBench];

const quick = process.argv.includes('--quick');
// `--only 5` runs one benchmark (while working on it); the report is only written for a full run.
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex === -1 ? null : Number(process.argv[onlyIndex + 1]);
// Read before anything runs: the state of the sources that were measured.
const commit = measuredCommit();
// Several rows run the compiled server, as `npm start` does: build these sources first (--quick: only when there is no build).
if (!quick || !existsSync(COMPILED_SERVER)) buildBackend();
const postgres = await startPostgres();
const results: BenchResult[] = [];
try {
  for (const bench of CASES.filter((candidate) => only === null || candidate.id === only || candidate.alsoRows?.includes(only))) {
    console.log(`#${bench.id} ${bench.title}…`);
    for (const result of await bench.run({ quick, postgresUrl: postgres.url })) {
      results.push(result);
      console.log(`  ${result.what}: ours ${result.ours}; baseline ${result.baseline}; ratio ${format(result.ratio)}; goal ${result.goal} ${result.met ? 'met' : 'MISSED'}`);
      if (result.note) console.log(`    note: ${result.note}`);
    }
  }
} finally {
  await removePreparedInstance();
  await postgres.stop();
}

if (!quick && only === null) {
  writeFileSync(join(REPO_ROOT, 'BENCHMARKS.md'), report(results, commit));
  console.log('BENCHMARKS.md rewritten.');
}
console.log(`${results.length} benchmarks ran${quick ? ' (quick: timings not meaningful, nothing written)' : ''}.`);

function format(ratio: number | null): string {
  return ratio === null ? '—' : `${ratio.toFixed(2)}×`;
}

/** The commit measured, and whether the work tree differed from it. */
function measuredCommit(): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain') ? ' + uncommitted changes' : ''}`;
}

function report(rows: BenchResult[], commit: string): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    '# Benchmarks',
    '',
    'Written by `npm run bench`; do not edit by hand. Each benchmark runs its baseline in the same run on the same',
    `machine, in turn with ours (baseline, ours, baseline, ours, …); a timing reads "median [min–max]" of ${pairCount(false)} pairs. The ratio is`,
    'of the medians: ours ÷ baseline for times and sizes, baseline ÷ ours for throughput (above 1 = slower than the baseline). Every',
    'figure, in the table and in the notes, comes from the run that wrote this file.',
    '',
    `Commit: ${commit}.`,
    '',
    `Machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}. Date: ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '| what | baseline | ours | ratio | goal | met |',
    '|---|---|---|---|---|---|',
    ...rows.map((row) => `| ${row.what} | ${row.baseline} | ${row.ours} | ${format(row.ratio)} | ${row.goal} | ${row.met ? 'yes' : '**no**'} |`),
    '',
    '## Notes',
    '',
    ...rows.filter((row) => row.note).map((row) => `- ${row.what}: ${row.note}.`),
    '',
  ];
  return lines.join('\n');
}
