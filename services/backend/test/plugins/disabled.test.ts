import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { blogPlugin, pluginsFolder } from '../../../../test/helpers/plugins.ts';
import { createTestDatabase, TABLES_SQL, type TestDatabase } from '../../../../test/helpers/postgres.ts';
import { tempDir } from '../../../../test/helpers/temp.ts';

describe('PLUGINS_DISABLED', () => {
  let db: TestDatabase;
  let t: TestApp | undefined;
  const cleanup: { remove(): void }[] = [];
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await db.drop();
    cleanup.splice(0).forEach((folder) => folder.remove());
  });

  it('leaves a disabled plugin alone: no DDL, no onDatabaseReady, its routes answer 503; the others run', async () => {
    const marks = tempDir();
    const hookRan = join(marks.path, 'shelf-hook-ran');
    const folder = pluginsFolder({
      blog: blogPlugin,
      shelf: `
import { writeFileSync } from 'node:fs';
export default definePlugin({
  id: 'shelf', name: 'Shelf', version: '1.0.0',
  tables: (table) => ({ items: table('items', { id: pg.serial('id').primaryKey() }) }),
  settings: { size: setting.number({ name: 'Size', description: 'x', default: 3 }) },
  routes(app) { app.get('/', async () => ({ ok: true })); },
  onDatabaseReady() { writeFileSync(${JSON.stringify(hookRan)}, 'ran'); },
});`,
    });
    cleanup.push(marks, folder);

    t = await startApp({ ...db.env, PLUGINS_DIR: folder.path, PLUGINS_DISABLED: 'shelf' });
    const admin = await setUpWithAdmin(t, 'postgresql');

    const tables = (await db.query<{ table_name: string }>(TABLES_SQL, ['public'])).map((row) => row.table_name);
    expect(tables).toContain('blog_posts');
    expect(tables.filter((name) => name.startsWith('shelf_'))).toEqual([]);
    expect(await db.query('select plugin_id from plugin_schemas order by plugin_id')).toEqual([{ plugin_id: 'blog' }]);
    expect(existsSync(hookRan)).toBe(false);

    const plugins = (await admin.call('GET', '/api/plugins')).json().plugins;
    expect(plugins).toEqual([
      expect.objectContaining({ id: 'blog', status: 'active' }),
      expect.objectContaining({ id: 'shelf', status: 'disabled', ddl_statements: 0 }),
    ]);
    const shelf = await t.app.inject('/api/plugins/shelf/');
    expect(shelf.statusCode).toBe(503);
    expect(shelf.json()).toEqual({ error: 'plugin_unavailable', message: expect.stringContaining('shelf plugin is disabled') });
    expect((await t.app.inject('/api/plugins/blog/')).statusCode).toBe(200);
  });
});
