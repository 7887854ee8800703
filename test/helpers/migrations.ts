import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS_DIR } from '../../services/backend/src/paths.ts';

/** Tags of the committed migrations, oldest first: what a fully migrated database has applied. */
export const MIGRATION_TAGS: string[] = (
  JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as { entries: { tag: string }[] }
).entries.map((entry) => entry.tag);
