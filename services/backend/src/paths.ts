import { resolve } from 'node:path';

// Paths that do not depend on the working directory the server was started from.
export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
export const MIGRATIONS_DIR = resolve(REPO_ROOT, 'drizzle');
export const FRONTEND_DIST_DIR = resolve(REPO_ROOT, 'services/frontend/dist');
export const DEFAULT_PERSISTENT_DATA_DIR = resolve(REPO_ROOT, 'persistent_data');
export const DEFAULT_PLUGINS_DIR = resolve(REPO_ROOT, 'services/backend/plugins');
