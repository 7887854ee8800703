import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { MIGRATIONS_DIR, PGLITE_TEMPLATE_ROOT } from '../../paths.ts';
import { BOOKKEEPING_DDL, RECORD_MIGRATION_SQL } from '../migrations.ts';
import { createClusterInWorker, type ClusterStatement } from './pglite-cluster.ts';
import type { DriverLog } from './types.ts';

/*
 * A new embedded database is a copy of a template: a PGlite data folder initialised once (initdb,
 * then this release's migrations) and kept, instead of initdb at every setup (seconds of CPU and
 * ~0.8 GB of WebAssembly memory). Copying a folder measured faster than PGlite's own `loadDataDir`
 * (a tarball unpacked through its virtual file system). The template holds the schema only: no
 * setup record, settings, salt or token (the setup phases write those, per instance), so two
 * instances copied from it share nothing but the empty tables.
 */

// Bumped when what goes into a template changes in a way the key below does not see.
const TEMPLATE_FORMAT = 1;

export interface TemplateSource {
  /** The folder that holds the templates, one subfolder per key. */
  root: string;
  /** The migrations the template has applied; null for an empty cluster (initdb only). */
  migrationsFolder: string | null;
}

/** This release's tables: what a setup starts from. */
export const DEFAULT_TEMPLATE_SOURCE: TemplateSource = { root: PGLITE_TEMPLATE_ROOT, migrationsFolder: MIGRATIONS_DIR };
/** No tables at all: what a move or a restore fills (they refuse a database that is not empty). */
export const EMPTY_TEMPLATE_SOURCE: TemplateSource = { root: PGLITE_TEMPLATE_ROOT, migrationsFolder: null };

/**
 * Names the template by what makes it: PGlite's version (its initdb and on-disk format) and every
 * migration's hash. A new release, a changed migration or another PGlite gives another key, so a
 * stale template is never used; it is made again.
 */
export function templateKey(migrationsFolder: string | null): string {
  const migrations = migrationsFolder === null ? 'none' : readMigrationFiles({ migrationsFolder }).map((migration) => [migration.folderMillis, migration.hash]);
  const identity = JSON.stringify({ format: TEMPLATE_FORMAT, pglite: pgliteVersion(), migrations });
  return createHash('sha256').update(identity).digest('hex').slice(0, 16);
}

export function templatePath(source: TemplateSource): string {
  return join(source.root, templateKey(source.migrationsFolder));
}

// Two setups in one process (a move, tests) wait for the same template instead of making two.
const inFlight = new Map<string, Promise<string>>();

/** The template for `source`, made first if it is missing. Throws when it cannot be made (e.g. a read-only build folder). */
export function ensurePgliteTemplate(source: TemplateSource = DEFAULT_TEMPLATE_SOURCE): Promise<string> {
  const path = templatePath(source);
  if (existsSync(join(path, 'PG_VERSION'))) return Promise.resolve(path);
  let making = inFlight.get(path);
  if (!making) {
    making = makeTemplate(path, source.migrationsFolder).finally(() => inFlight.delete(path));
    inFlight.set(path, making);
  }
  return making;
}

async function makeTemplate(path: string, migrationsFolder: string | null): Promise<string> {
  mkdirSync(dirname(path), { recursive: true });
  // Built aside and renamed into place: a template is complete or absent, also with other processes making it at once.
  const building = `${path}.building-${randomBytes(4).toString('hex')}`;
  try {
    await createClusterInWorker(building, migrationStatements(migrationsFolder));
    // Part of the build, like the code: readable by the user the server runs as (the Docker image's
    // build folder belongs to root), writable by its owner only. Each instance's copy is made private.
    setModes(building, 0o755, 0o644);
    try {
      renameSync(building, path);
    } catch (error) {
      if (!existsSync(join(path, 'PG_VERSION'))) throw error;
      // Another process made it first: theirs is the same.
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  return path;
}

/** This release's migrations and Drizzle's record of them, as Drizzle's migrator would apply them. */
function migrationStatements(migrationsFolder: string | null): ClusterStatement[] {
  if (migrationsFolder === null) return [];
  const statements: ClusterStatement[] = BOOKKEEPING_DDL.map((sql) => ({ sql }));
  for (const migration of readMigrationFiles({ migrationsFolder })) {
    statements.push(...migration.sql.filter((sql) => sql.trim() !== '').map((sql) => ({ sql })));
    statements.push({ sql: RECORD_MIGRATION_SQL, params: [migration.hash, migration.folderMillis] });
  }
  return statements;
}

// Files copied at once: the thread pool's four threads kept busy, the event loop free.
const COPY_CONCURRENCY = 8;

/**
 * Fills the new data folder `dataDir` (which exists, and may hold the lock file) with a copy of the
 * template: ~1,000 small files copied in parallel (measured ~1.5× faster than one by one with
 * cpSync, which also blocked the event loop). PG_VERSION is copied last: a folder without it is
 * taken as new and filled again, so a copy cut short is never opened as a database. `stopped`, when
 * it says so, ends the copy early (a preparation dropped); the folder is then incomplete.
 */
export async function copyTemplate(template: string, dataDir: string, stopped: () => boolean = () => false): Promise<void> {
  const folders: string[] = [];
  const files: string[] = [];
  const list = async (relative: string): Promise<void> => {
    for (const entry of await readdir(join(template, relative), { withFileTypes: true })) {
      const path = join(relative, entry.name);
      if (entry.isDirectory()) {
        folders.push(path);
        await list(path);
      } else if (entry.isFile() && path !== 'PG_VERSION') {
        files.push(path);
      }
    }
  };
  await list('');
  // Private from the start, as the instance's files must be (the template's are 0644).
  for (const folder of folders) await mkdir(join(dataDir, folder), { mode: 0o700 });
  const copy = async (path: string) => {
    await copyFile(join(template, path), join(dataDir, path));
    await chmod(join(dataDir, path), 0o600);
  };
  let next = 0;
  const copyNext = async (): Promise<void> => {
    while (next < files.length && !stopped()) await copy(files[next++]!);
  };
  await Promise.all(Array.from({ length: COPY_CONCURRENCY }, copyNext));
  if (!stopped()) await copy('PG_VERSION');
}

/**
 * Makes a new cluster in `dataDir` from the template (made first if missing), or, when the template
 * cannot be made or copied, with initdb (and the migrations) in a worker as before. Says which.
 */
export async function createPgliteCluster(dataDir: string, log: DriverLog, source: TemplateSource): Promise<'template' | 'initdb'> {
  const before = new Set(readdirSync(dataDir));
  let template: string | null = null;
  try {
    template = await ensurePgliteTemplate(source);
    await copyTemplate(template, dataDir);
    return 'template';
  } catch (error) {
    log.warn(
      { template: template ?? source.root, reason: (error as Error).message },
      'The embedded database template could not be used; creating the database with initdb instead (slower).',
    );
    for (const entry of readdirSync(dataDir)) if (!before.has(entry)) rmSync(join(dataDir, entry), { recursive: true, force: true });
    await createClusterInWorker(dataDir, migrationStatements(source.migrationsFolder));
    return 'initdb';
  }
}

/** Removes the templates of other keys (older releases or migration sets) from `root`; the build keeps only its own. */
export function removeOtherTemplates(root: string, keep: TemplateSource[]): string[] {
  if (!existsSync(root)) return [];
  const kept = new Set(keep.map((source) => templateKey(source.migrationsFolder)));
  // Folders still being built belong to a process at work (a test server): theirs to finish or remove.
  const removed = readdirSync(root).filter((entry) => !kept.has(entry) && !entry.includes('.building-'));
  for (const entry of removed) rmSync(join(root, entry), { recursive: true, force: true });
  return removed;
}

function setModes(root: string, folderMode: number, fileMode: number): void {
  chmodSync(root, folderMode);
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) setModes(path, folderMode, fileMode);
    else if (entry.isFile()) chmodSync(path, fileMode);
  }
}

let version: string | null = null;

function pgliteVersion(): string {
  if (version) return version;
  // The package's exports do not include its package.json: find it above the entry point.
  let folder = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
  while (!existsSync(join(folder, 'package.json')) && dirname(folder) !== folder) folder = dirname(folder);
  return (version = (JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { version: string }).version);
}
