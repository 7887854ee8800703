import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../services/backend/src/paths.ts';
import { createDatabase } from '../test/support/databases.ts';

export interface BenchContext {
  quick: boolean;
  /** A PostgreSQL server URL (its `postgres` database); each case makes its own databases. */
  postgresUrl: string;
}

export interface BenchResult {
  what: string;
  baseline: string;
  ours: string;
  /** ours ÷ baseline for times and sizes, baseline ÷ ours for throughput: above 1 is always "slower". */
  ratio: number | null;
  goal: string;
  met: boolean;
  note?: string;
}

export interface BenchCase {
  /** The number of its first row; `alsoRows`: the numbers of the others (each works with --only). */
  id: number;
  alsoRows?: number[];
  title: string;
  run(context: BenchContext): Promise<BenchResult[]>;
}

/** The samples of one side of a comparison, summarised. */
export interface Stats {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)!, samples };
}

/** Pairs in a full run (ours and the baseline once each per pair); --quick runs one. */
export const pairCount = (quick: boolean) => (quick ? 1 : 5);

/**
 * Runs the baseline and ours in turn, pair after pair (B A B A …), so that drift on a shared
 * machine hits both alike; each call returns its measurement (a duration, a size, a rate).
 */
export async function alternate(pairs: number, baseline: () => Promise<number>, ours: () => Promise<number>): Promise<{ baseline: Stats; ours: Stats }> {
  const baselineSamples: number[] = [];
  const ourSamples: number[] = [];
  for (let i = 0; i < pairs; i++) {
    baselineSamples.push(await baseline());
    ourSamples.push(await ours());
  }
  return { baseline: stats(baselineSamples), ours: stats(ourSamples) };
}

/** Times one call of `work` in milliseconds. */
export async function timeMs(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** A new empty database on the benchmark's server. */
export const freshDatabase = (serverUrl: string) => createDatabase(serverUrl, 'gw_bench');

/** A duration: ms below 10 s, else seconds. */
export const ms = (value: number) => (value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${value.toFixed(value < 10 ? 2 : 0)} ms`);
export const mb = (value: number) => `${value.toFixed(0)} MB`;

/** "median [min–max]" in the unit `format` gives (one sample: just it). */
export function spread(summary: Stats, format: (value: number) => string = ms): string {
  if (summary.samples.length === 1) return format(summary.median);
  return `${format(summary.median)} [${format(summary.min)}–${format(summary.max)}]`;
}

/** Resident memory of a process now, and its peak so far (VmHWM), in MB. */
export function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(/\d+/.exec(status.split('\n').find((line) => line.startsWith(`${name}:`)) ?? '')?.[0] ?? 0) / 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

export const sleep = (msToWait: number) => new Promise((resolve) => setTimeout(resolve, msToWait));

const BACKEND = join(REPO_ROOT, 'services/backend');
/** The compiled server `npm start` runs. */
export const COMPILED_SERVER = join(BACKEND, 'dist/src/server.js');
/** The compiled app plus a bare route, for the status benchmarks (#1, #9). */
export const STATUS_SERVER = join(REPO_ROOT, 'bench/support/status-server.js');
// Plain JavaScript only: Node ≥ 22.18 would otherwise strip the types of a .ts file it is handed.
export const PLAIN_NODE = process.allowedNodeEnvironmentFlags.has('--experimental-strip-types') ? ['--no-experimental-strip-types'] : [];
/**
 * How a server process is started: plain node with the options `npm start` gives it (the backend's
 * start script, e.g. --v8-pool-size). The bare Fastify baselines get the same, so a comparison
 * measures our code, not node's settings.
 */
export const SERVER_NODE = [...PLAIN_NODE, ...startScriptOptions()];

function startScriptOptions(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(BACKEND, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = scripts.start.split(' ');
  if (words[0] !== 'node' || words.at(-1) !== 'dist/src/server.js') throw new Error(`The backend's start script is not "node [options] dist/src/server.js": ${scripts.start}`);
  return words.slice(1, -1);
}

/**
 * Builds the backend as `npm start` does (`npm run build -w services/backend`: esbuild and an
 * incremental tsc, a few seconds when dist/ is current), so the compiled server measured is the sources measured.
 */
export function buildBackend(): void {
  execFileSync('npm', ['run', 'build', '-w', 'services/backend'], { cwd: REPO_ROOT, stdio: 'ignore' });
}

/** Each setup phase's duration as a server logged it at debug level ("setup phase done", with ms). */
export function loggedPhases(lines: readonly string[]): Map<string, number> {
  const phases = new Map<string, number>();
  for (const line of lines) {
    try {
      const entry = JSON.parse(line) as { msg?: string; phase?: string; ms?: number };
      if (entry.msg === 'setup phase done' && entry.phase && entry.ms !== undefined) phases.set(entry.phase, entry.ms);
    } catch {
      // not a JSON line
    }
  }
  return phases;
}
