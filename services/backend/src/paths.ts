import { basename, dirname, resolve } from 'node:path';

// Paths that do not depend on the working directory the server was started from. The sources run
// from services/backend/src (under tsx or vitest); the build (build.js) bundles this module into some
// file under services/backend/dist (an entry such as dist/src/server.js, or a chunk in dist/src/chunks).
export const RUNNING_COMPILED = import.meta.filename.endsWith('.js');
const BACKEND_DIR = RUNNING_COMPILED ? parentOfDist(import.meta.dirname) : resolve(import.meta.dirname, '..');
export const REPO_ROOT = resolve(BACKEND_DIR, '../..');
// GROUNDWORK_MIGRATIONS_DIR is for tests only (a release with one more migration, without a second
// checkout); loadConfig checks it names a migrations folder.
export const MIGRATIONS_DIR = process.env.GROUNDWORK_MIGRATIONS_DIR ? resolve(process.env.GROUNDWORK_MIGRATIONS_DIR) : resolve(REPO_ROOT, 'drizzle');
export const FRONTEND_DIST_DIR = resolve(REPO_ROOT, 'services/frontend/dist');
// Initialised PGlite data folders, one per PGlite version and migration set, copied into each new
// instance instead of running initdb (db/drivers/pglite-template.ts). `npm run build` makes the
// current one; the server makes it on first use when it is missing. Not the instance's data: no secrets.
export const PGLITE_TEMPLATE_ROOT = resolve(BACKEND_DIR, 'dist/pglite-template');
export const DEFAULT_PERSISTENT_DATA_DIR = resolve(REPO_ROOT, 'persistent_data');
// The compiled server loads the compiled bundled plugins: they import the compiled plugin API, the
// very modules the server itself runs (the TypeScript ones would be a second copy, or not load at all).
export const DEFAULT_PLUGINS_DIR = resolve(BACKEND_DIR, RUNNING_COMPILED ? 'dist/plugins' : 'plugins');

function parentOfDist(dir: string): string {
  for (let at = dir; dirname(at) !== at; at = dirname(at)) if (basename(at) === 'dist') return dirname(at);
  throw new Error(`The compiled server runs from a dist folder, not from ${dir}`);
}
