import { afterEach, describe, expect, it } from 'vitest';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { blogPlugin, pluginsFolder } from '../../../../test/helpers/plugins.ts';
import { createTestDatabase, type TestDatabase } from '../../../../test/helpers/postgres.ts';

describe('a plugin whose DDL fails inside the schema transaction (PostgreSQL)', () => {
  let t: TestApp | undefined;
  let db: TestDatabase | undefined;
  const folders: { remove(): void }[] = [];
  afterEach(async () => {
    await t?.close();
    await db?.drop();
    folders.splice(0).forEach((folder) => folder.remove());
  });

  it('fails alone (its savepoint is rolled back): the plugins after it and the setup go on', async () => {
    db = await createTestDatabase();
    // A table in the way of the first plugin's CREATE TABLE.
    await db.query('create table clash_things (something text)');
    const folder = pluginsFolder({
      a_clash: `export default definePlugin({ id: 'clash', name: 'Clash', version: '1', tables: (t) => ({ things: t('things', { id: pg.serial('id').primaryKey() }) }) });`,
      b_blog: blogPlugin,
    });
    folders.push(folder);
    t = await startApp({ ...db.env, PLUGINS_DIR: folder.path });
    const admin = await setUpWithAdmin(t, 'postgresql');
    expect(t.app.setupStatus.snapshot().state).toBe('ready');
    expect((await admin.call('GET', '/api/plugins')).json().plugins).toEqual([
      expect.objectContaining({ id: 'clash', status: 'failed', error: expect.stringMatching(/clash_things.*already exists/) }),
      expect.objectContaining({ id: 'blog', status: 'active' }),
    ]);
    expect(await db.query('select plugin_id from plugin_schemas')).toEqual([{ plugin_id: 'blog' }]);
    expect(await db.query('select count(*)::int as n from setup_record')).toEqual([{ n: 1 }]);
  });
});
