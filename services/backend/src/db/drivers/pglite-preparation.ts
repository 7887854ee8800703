import { renameSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { Config } from '../../config.ts';
import { readSelection } from '../selection.ts';
import { assertDataFolder } from '../../storage.ts';
import { pgliteDataDir } from './index.ts';
import { copyTemplate, DEFAULT_TEMPLATE_SOURCE, ensurePgliteTemplate } from './pglite-template.ts';
import { dropPgliteRuntime, preloadPgliteRuntime } from './pglite-runtime.ts';
import type { DriverLog } from './types.ts';

/*
 * Work a PGlite setup or boot would otherwise do on the spot, done ahead: PGlite's WebAssembly
 * compiled (pglite-runtime.ts), and, while the server waits for the wizard, the instance's database
 * copied from the template beside where it will live (PERSISTENT_DATA_DIR/pglite.staged) and
 * started, so that the setup only renames it into place (~0.5 s of PGlite's start-up saved; the
 * memory it takes is the memory the setup would take). Only a copy this process made and started
 * is used: one left by an earlier process (stopped midway) is never trusted; it is removed, and
 * made again.
 */

interface Staging {
  stopped: boolean;
  /** PGlite running on the complete copy (private, as copyTemplate makes it), or null when it was not made. */
  done: Promise<PGlite | null>;
}

// One per PGlite folder (two apps in one process, in tests, have a folder each).
const stagings = new Map<string, Staging>();

export function stagedPath(dataDir: string): string {
  return `${dataDir}.staged`;
}

/**
 * Before the server listens: starts compiling PGlite's WebAssembly when this start will open PGlite,
 * and, when it will wait for the wizard with PGlite as the only choice (no selection, no DB_TYPE, no
 * PostgreSQL settings) in a safe folder, starts preparing that setup already.
 */
export function preparePgliteBoot(config: Config, log: DriverLog): void {
  const selection = readSelection(config.persistentDataDir);
  const waitsForWizard = selection.status === 'missing' && !config.dbType && !config.postgres;
  const opensPglite = selection.status === 'ok' ? selection.selection.type === 'pglite' : selection.status === 'missing' && (config.dbType === 'pglite' || waitsForWizard);
  if (!opensPglite) return;
  preloadPgliteRuntime();
  if (waitsForWizard && isSafe(config.persistentDataDir)) preparePgliteSetup(pgliteDataDir(config), log);
}

function isSafe(folder: string): boolean {
  try {
    assertDataFolder(folder);
    return true;
  } catch {
    // Boot says why, and offers no setup.
    return false;
  }
}

/** The server waits for its first setup: copies the template beside `dataDir` and starts PGlite on it, in the background. */
export function preparePgliteSetup(dataDir: string, log: DriverLog): void {
  if (stagings.has(dataDir)) return;
  const staging: Staging = { stopped: false, done: Promise.resolve(null) };
  staging.done = stage(dataDir, () => staging.stopped, log);
  stagings.set(dataDir, staging);
}

async function stage(dataDir: string, stopped: () => boolean, log: DriverLog): Promise<PGlite | null> {
  const path = stagedPath(dataDir);
  let client: PGlite | null = null;
  try {
    await rm(path, { recursive: true, force: true });
    const template = await ensurePgliteTemplate(DEFAULT_TEMPLATE_SOURCE);
    if (stopped()) return null;
    await mkdir(path, { mode: 0o700 });
    await copyTemplate(template, path, stopped);
    if (stopped()) throw new Error('stopped');
    client = await (await import('./pglite.ts')).startPglite(path);
    if (stopped()) throw new Error('stopped');
    return client;
  } catch (error) {
    if (!stopped()) log.warn({ reason: (error as Error).message }, 'The embedded database could not be prepared ahead; a setup will make it then.');
    await client?.close().catch(() => {});
    await rm(path, { recursive: true, force: true }).catch(() => {});
    return null;
  }
}

/**
 * Moves the database this process prepared for `dataDir` into place, running (waiting for it if
 * still in flight). Null when there is none, or `dataDir` already holds something; no staged
 * folder is left either way.
 */
export async function claimPreparedCluster(dataDir: string): Promise<PGlite | null> {
  const staging = stagings.get(dataDir);
  stagings.delete(dataDir);
  const client = staging ? await staging.done : null;
  if (client) {
    const mount = dataFolderMount(client);
    if (mount?.opts.root === resolve(stagedPath(dataDir))) {
      try {
        // Atomic: the instance's folder is the complete copy, or absent.
        renameSync(stagedPath(dataDir), dataDir);
        // In the same tick, with no query running: files PGlite has open stay open (POSIX), the
        // ones it opens from now on are found at the new place.
        mount.opts.root = resolve(dataDir);
        return client;
      } catch {
        // `dataDir` exists and is not empty, or the system cannot rename a folder in use: the usual way then.
      }
    }
    await client.close().catch(() => {});
  }
  await rm(stagedPath(dataDir), { recursive: true, force: true });
  return null;
}

/**
 * Where PGlite's file system maps its data folder (PGDATA, /pglite/data) onto this machine's: the
 * options of Emscripten's NODEFS mount, whose `root` every file operation reads. Null if this
 * PGlite build is laid out otherwise (the prepared database is then not moved, but made again).
 */
function dataFolderMount(client: PGlite): { opts: { root?: unknown } } | null {
  try {
    const fs = (client.Module as unknown as { FS: { lookupPath(path: string): { node: { mount?: { opts?: { root?: unknown } } } } } }).FS;
    const mount = fs.lookupPath('/pglite/data').node.mount;
    return mount?.opts ? (mount as { opts: { root?: unknown } }) : null;
  } catch {
    return null;
  }
}

/** Drops what was prepared for `dataDir` (PostgreSQL chosen, or the server closes): PGlite stops, the copy is removed, the runtime is let go. */
export async function discardPgliteSetup(dataDir: string): Promise<void> {
  dropPgliteRuntime();
  const staging = stagings.get(dataDir);
  stagings.delete(dataDir);
  if (staging) {
    staging.stopped = true;
    await (await staging.done)?.close().catch(() => {});
  }
  await rm(stagedPath(dataDir), { recursive: true, force: true });
}
