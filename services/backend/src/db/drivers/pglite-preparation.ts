import { renameSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import type { Config } from '../../config.ts';
import { readSelection } from '../selection.ts';
import { copyTemplate, DEFAULT_TEMPLATE_SOURCE, ensurePgliteTemplate } from './pglite-template.ts';
import { dropPgliteRuntime, preloadPgliteRuntime } from './pglite-runtime.ts';
import type { DriverLog } from './types.ts';

/*
 * Work a PGlite setup or boot would otherwise do on the spot, done ahead: PGlite's WebAssembly
 * compiled (pglite-runtime.ts), and, while the server waits for the wizard, the instance's database
 * copied from the template beside where it will live (PERSISTENT_DATA_DIR/pglite.staged), so that
 * the setup only renames it into place. Only a copy this process made and finished is used: one
 * left by an earlier process (stopped midway) is never trusted; it is removed, and made again.
 */

interface Staging {
  stopped: boolean;
  /** Resolves true once the copy is complete (and private, as copyTemplate makes it), false when it was not made. */
  done: Promise<boolean>;
}

// One per PGlite folder (two apps in one process, in tests, have a folder each).
const stagings = new Map<string, Staging>();

export function stagedPath(dataDir: string): string {
  return `${dataDir}.staged`;
}

/** Before the server listens: starts compiling PGlite's WebAssembly when this start will open PGlite (or offer it, as the only choice). */
export function preparePgliteBoot(config: Config): void {
  const selection = readSelection(config.persistentDataDir);
  const choice = selection.status === 'ok' ? selection.selection.type : selection.status === 'missing' ? (config.dbType ?? (config.postgres ? null : 'pglite')) : null;
  if (choice === 'pglite') preloadPgliteRuntime();
}

/** The server waits for its first setup: gets PGlite's runtime and a copy of the template ready for `dataDir`, in the background. */
export function preparePgliteSetup(dataDir: string, log: DriverLog): void {
  preloadPgliteRuntime();
  if (stagings.has(dataDir)) return;
  const staging: Staging = { stopped: false, done: Promise.resolve(false) };
  staging.done = stage(dataDir, () => staging.stopped, log);
  stagings.set(dataDir, staging);
}

async function stage(dataDir: string, stopped: () => boolean, log: DriverLog): Promise<boolean> {
  const path = stagedPath(dataDir);
  try {
    await rm(path, { recursive: true, force: true });
    const template = await ensurePgliteTemplate(DEFAULT_TEMPLATE_SOURCE);
    if (stopped()) return false;
    await mkdir(path, { mode: 0o700 });
    await copyTemplate(template, path, stopped);
    if (stopped()) throw new Error('stopped');
    return true;
  } catch (error) {
    if (!stopped()) log.warn({ reason: (error as Error).message }, 'The embedded database could not be prepared ahead; a setup will copy it then.');
    await rm(path, { recursive: true, force: true }).catch(() => {});
    return false;
  }
}

/**
 * Moves the copy this process prepared for `dataDir` into place (waiting for it if still in
 * flight). False when there is none, or `dataDir` already holds something; no staged folder is
 * left either way.
 */
export async function claimStagedCluster(dataDir: string): Promise<boolean> {
  const staging = stagings.get(dataDir);
  stagings.delete(dataDir);
  if (staging && (await staging.done)) {
    try {
      // Atomic: the instance's folder is the complete copy, or absent.
      renameSync(stagedPath(dataDir), dataDir);
      return true;
    } catch {
      // `dataDir` exists and is not empty (or the copy was removed meanwhile): the usual way then.
    }
  }
  await rm(stagedPath(dataDir), { recursive: true, force: true });
  return false;
}

/** Drops what was prepared for `dataDir` (PostgreSQL chosen, or the server closes): the copy stops and is removed, the runtime is let go. */
export async function discardPgliteSetup(dataDir: string): Promise<void> {
  dropPgliteRuntime();
  const staging = stagings.get(dataDir);
  stagings.delete(dataDir);
  if (staging) {
    staging.stopped = true;
    await staging.done;
  }
  await rm(stagedPath(dataDir), { recursive: true, force: true });
}
