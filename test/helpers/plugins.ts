import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../services/backend/src/paths.ts';

const API = join(REPO_ROOT, 'services/backend/src/plugins/index.ts');

/**
 * A fresh PLUGINS_DIR holding the given plugins (file name → source body). Each version of a
 * plugin needs its own folder: a module already imported from a path is not imported again.
 */
export function pluginsFolder(files: Record<string, string>): { path: string; remove(): void } {
  // Inside the repository (in the ignored .tmp/), so plain Node resolves drizzle-orm from there too.
  mkdirSync(join(REPO_ROOT, '.tmp'), { recursive: true });
  const path = mkdtempSync(join(REPO_ROOT, '.tmp', 'plugins-'));
  const folder = { path, remove: () => rmSync(path, { recursive: true, force: true }) };
  for (const [name, body] of Object.entries(files)) {
    writeFileSync(
      join(folder.path, `${name}.ts`),
      `import { definePlugin, setting } from ${JSON.stringify(API)};\nimport * as pg from 'drizzle-orm/pg-core';\nvoid setting;\n${body}\n`,
    );
  }
  return folder;
}

/** A plugin "shop" in three versions: v1, v2 adds a column, v3 drops one. */
export function shopPlugin(version: 1 | 2 | 3): string {
  const columns = [
    `id: pg.serial('id').primaryKey()`,
    version === 3 ? '' : `sku: pg.text('sku').notNull()`,
    `code: pg.text('code').notNull().unique()`,
    `customerId: pg.integer('customer_id').references(() => customers.id)`,
    version === 2 ? `note: pg.text('note')` : '',
  ].filter(Boolean);
  return `
export default definePlugin({
  id: 'shop',
  name: 'Shop',
  version: '${version}.0.0',
  tables: (table) => {
    const customers = table('customers', { id: pg.serial('id').primaryKey(), name: pg.text('name').notNull() });
    const orders = table('orders', { ${columns.join(', ')} }, (o) => [pg.index('shop_orders_code_idx').on(o.code)]);
    return { customers, orders };
  },
});`;
}

export const blogPlugin = `
export default definePlugin({
  id: 'blog',
  name: 'Blog',
  version: '1.0.0',
  tables: (table) => ({ posts: table('posts', { id: pg.serial('id').primaryKey(), title: pg.text('title').notNull() }) }),
  settings: { posts_per_page: setting.number({ name: 'Posts per page', description: 'x', default: 10 }) },
  routes(app, { db, tables }) {
    app.get('/', async () => db().select().from(tables.posts));
  },
});`;

/** A plugin with a table its routes write and read (POST adds an entry → 201, GET lists them), admin only. */
export const journalPlugin = `
export default definePlugin({
  id: 'journal',
  name: 'Journal',
  version: '1.0.0',
  tables: (table) => ({ entries: table('entries', { id: pg.serial('id').primaryKey(), title: pg.text('title').notNull() }) }),
  routes(app, { db, tables }) {
    app.get('/', { preHandler: app.requireAdmin }, async () => db().select().from(tables.entries));
    app.post('/', { preHandler: app.requireAdmin }, async (request, reply) =>
      reply.status(201).send((await db().insert(tables.entries).values({ title: (request.body as { title: string }).title }).returning())[0]));
  },
});`;
