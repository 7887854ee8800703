import { resolve } from 'node:path';

// Paths that do not depend on the working directory the server was started from.
export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
// GROUNDWORK_MIGRATIONS_DIR is for tests only (a release with one more migration, without a second
// checkout); loadConfig checks it names a migrations folder.
export const MIGRATIONS_DIR = process.env.GROUNDWORK_MIGRATIONS_DIR ? resolve(process.env.GROUNDWORK_MIGRATIONS_DIR) : resolve(REPO_ROOT, 'drizzle');
export const FRONTEND_DIST_DIR = resolve(REPO_ROOT, 'services/frontend/dist');
export const DEFAULT_PERSISTENT_DATA_DIR = resolve(REPO_ROOT, 'persistent_data');
export const DEFAULT_PLUGINS_DIR = resolve(REPO_ROOT, 'services/backend/plugins');
