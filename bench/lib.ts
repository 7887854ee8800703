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
  id: number;
  title: string;
  run(context: BenchContext): Promise<BenchResult[]>;
}

/** Runs `once` `times` times and returns the median duration in milliseconds. */
export async function medianMs(times: number, once: () => Promise<number>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) samples.push(await once());
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

/** Times one call of `work` in milliseconds. */
export async function timeMs(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** A new empty database on the benchmark's server. */
export const freshDatabase = (serverUrl: string) => createDatabase(serverUrl, 'gw_bench');

export const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`;
