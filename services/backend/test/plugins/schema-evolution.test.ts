import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { blogPlugin, pluginsFolder, shopPlugin } from '../../../../test/helpers/plugins.ts';
import { createTestDatabase, type TestDatabase } from '../../../../test/helpers/postgres.ts';
import { tempDir } from '../../../../test/helpers/temp.ts';

async function rows<T>(t: TestApp, query: ReturnType<typeof sql>): Promise<T[]> {
  return ((await t.app.activeDatabase.db.execute(query)) as unknown as { rows: T[] }).rows;
}

describe.each(['pglite', 'postgresql'] as const)('plugin tables on %s', (type) => {
  let db: TestDatabase | null = null;
  let data: ReturnType<typeof tempDir>;
  const folders: { remove(): void }[] = [];
  let t: TestApp | undefined;
  const boot = (files: Record<string, string>) => {
    const folder = pluginsFolder(files);
    folders.push(folder);
    return startApp({ ...db?.env, PLUGINS_DIR: folder.path, ENCRYPTION_SECRET: 'plugin-test-encryption-secret-0123456789' }, { dataDir: data.path });
  };
  const pluginsOf = async (t: TestApp, token: string) =>
    (await t.app.inject({ url: '/api/plugins', headers: { authorization: `Bearer ${token}` } })).json().plugins as { id: string; status: string; error: string | null; ddl_statements: number; tables: string[] }[];

  beforeEach(async () => {
    db = type === 'postgresql' ? await createTestDatabase() : null;
    data = tempDir();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await db?.drop();
    data.remove();
    folders.splice(0).forEach((folder) => folder.remove());
  });

  it('creates prefixed tables, indexes, constraints and sequences; a reboot with nothing changed sends no DDL', async () => {
    t = await boot({ shop: shopPlugin(1), blog: blogPlugin });
    const admin = await setUpWithAdmin(t, type);
    expect(await pluginsOf(t, admin.token)).toEqual([
      { id: 'blog', name: 'Blog', version: '1.0.0', status: 'active', tables: ['blog_posts'], error: null, ddl_statements: 1 },
      { id: 'shop', name: 'Shop', version: '1.0.0', status: 'active', tables: ['shop_customers', 'shop_orders'], error: null, ddl_statements: expect.any(Number) },
    ]);

    const tables = (await rows<{ name: string }>(t, sql`select tablename as name from pg_tables where schemaname = 'public' and (tablename like 'shop%' or tablename like 'blog%') order by 1`)).map((r) => r.name);
    expect(tables).toEqual(['blog_posts', 'shop_customers', 'shop_orders']);
    const objects = [
      ...(await rows<{ name: string }>(t, sql`select indexname as name from pg_indexes where tablename in ('shop_orders', 'shop_customers')`)),
      ...(await rows<{ name: string }>(t, sql`select conname as name from pg_constraint where conrelid in ('shop_orders'::regclass, 'shop_customers'::regclass)`)),
      ...(await rows<{ name: string }>(t, sql`select sequence_name as name from information_schema.sequences where sequence_name like '%shop%'`)),
    ].map((r) => r.name);
    expect(objects).toEqual(expect.arrayContaining(['shop_orders_code_idx', 'shop_orders_pkey', 'shop_orders_code_unique', 'shop_orders_customer_id_shop_customers_id_fk', 'shop_orders_id_seq']));
    expect(objects.filter((name) => !name.startsWith('shop_'))).toEqual([]);
    const appliedAt = await rows(t, sql`select plugin_id, applied_at::text from plugin_schemas order by 1`);
    await t.app.close();

    t = await boot({ shop: shopPlugin(1), blog: blogPlugin });
    expect(t.app.setupStatus.snapshot().state).toBe('ready');
    expect((await pluginsOf(t, admin.token)).map((p) => [p.id, p.status, p.ddl_statements])).toEqual([
      ['blog', 'active', 0],
      ['shop', 'active', 0],
    ]);
    expect(await rows(t, sql`select plugin_id, applied_at::text from plugin_schemas order by 1`)).toEqual(appliedAt);
  });

  it('adds a new column and keeps existing rows; refuses a dropped column and fails only that plugin', async () => {
    t = await boot({ shop: shopPlugin(1), blog: blogPlugin });
    const admin = await setUpWithAdmin(t, type);
    await t.app.activeDatabase.db.execute(sql`insert into shop_orders (sku, code) values ('A-1', 'c1')`);
    await t.app.close();

    t = await boot({ shop: shopPlugin(2), blog: blogPlugin });
    const afterAdd = await pluginsOf(t, admin.token);
    expect(afterAdd.find((p) => p.id === 'shop')).toMatchObject({ status: 'active', version: '2.0.0', ddl_statements: 1 });
    expect(await rows(t, sql`select sku, code, note from shop_orders`)).toEqual([{ sku: 'A-1', code: 'c1', note: null }]);
    await t.app.close();

    t = await boot({ shop: shopPlugin(3), blog: blogPlugin });
    expect(t.app.setupStatus.snapshot().state).toBe('ready');
    const afterDrop = await pluginsOf(t, admin.token);
    expect(afterDrop.find((p) => p.id === 'shop')).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/Plugin shop: column shop_orders\.sku would be dropped or renamed.*only additive changes/),
    });
    expect(afterDrop.find((p) => p.id === 'blog')).toMatchObject({ status: 'active' });
    // Nothing of the refused change was applied, and the other plugin serves.
    expect(await rows(t, sql`select sku from shop_orders`)).toEqual([{ sku: 'A-1' }]);
    const blog = await t.app.inject('/api/plugins/blog/');
    expect(blog.statusCode).toBe(200);
    expect(t.logs.join('')).toMatch(/Plugin shop failed/);
  });
});
