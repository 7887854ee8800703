import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../services/backend/src/paths.ts';

const run = promisify(execFile);

/** The entry file of an operator command (`npm run db:move` runs cli/move.ts). */
export function cliEntry(script: string): string {
  return join(REPO_ROOT, 'services/backend/src/cli', script);
}

/** Runs an operator command the way its npm script does, in its own process with only the given environment. */
export async function runCli(script: string, env: Record<string, string>, args: string[] = []) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', cliEntry(script), ...args], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
