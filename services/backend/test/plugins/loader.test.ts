import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin, PluginDefinitionError } from '../../src/plugins/define.ts';
import { loadPlugins } from '../../src/plugins/loader.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { blogPlugin, pluginsFolder } from '../../../../test/helpers/plugins.ts';

describe('loading plugins', () => {
  const folders: { remove(): void }[] = [];
  afterEach(() => folders.splice(0).forEach((folder) => folder.remove()));

  it.each(['Notes', 'n', '1notes', 'notes-app', 'a'.repeat(32), ''])('refuses the id %j, naming it', (id) => {
    expect(() => definePlugin({ id, name: 'x', version: '1', tables: () => ({}) })).toThrow(PluginDefinitionError);
    expect(() => definePlugin({ id, name: 'x', version: '1', tables: () => ({}) })).toThrow(JSON.stringify(id));
  });

  it('refuses a bad id, a duplicate id, a name outside the prefix and a core name; loads the rest', async () => {
    const folder = pluginsFolder({
      a_bad: `export default definePlugin({ id: 'Bad-Id', name: 'x', version: '1', tables: () => ({}) });`,
      b_blog: blogPlugin,
      c_blog_again: blogPlugin,
      d_outside: `export default definePlugin({ id: 'stock', name: 'x', version: '1', tables: (t) => ({ items: t('items', { id: pg.serial('id').primaryKey() }, (i: any) => [pg.index('items_idx').on(i.id)]) }) });`,
      e_core: `export default definePlugin({ id: 'setup', name: 'x', version: '1', tables: (t) => ({ record: t('record', { id: pg.integer('id') }) }) });`,
      f_long: `export default definePlugin({ id: 'long', name: 'x', version: '1', tables: (t) => ({ x: t('${'x'.repeat(60)}', { id: pg.integer('id') }) }) });`,
    });
    folders.push(folder);
    const { plugins, refused } = await loadPlugins(folder.path, ['setup_record']);
    expect(plugins.map((plugin) => plugin.id)).toEqual(['blog']);
    expect(refused).toEqual([
      { id: 'a_bad', message: expect.stringMatching(/Plugin a_bad .*could not be loaded: Plugin id "Bad-Id" is not allowed/) },
      { id: 'blog', message: expect.stringMatching(/Plugin blog .*another plugin already uses the id "blog"/) },
      { id: 'stock', message: 'Plugin stock: index "items_idx" must start with "stock_".' },
      { id: 'setup', message: 'Plugin setup: table "setup_record" is already used by the core.' },
      { id: 'long', message: expect.stringMatching(/Plugin long: table "long_x+" is longer than 63 bytes/) },
    ]);
  });
});

describe('a plugin that throws in onDatabaseReady', () => {
  let t: TestApp | undefined;
  const folders: { remove(): void }[] = [];
  afterEach(async () => {
    await t?.close();
    folders.splice(0).forEach((folder) => folder.remove());
  });

  it('is marked failed; boot finishes and the other plugins are active', async () => {
    const folder = pluginsFolder({
      blog: blogPlugin,
      crashy: `export default definePlugin({ id: 'crashy', name: 'Crashy', version: '1', tables: (t) => ({ things: t('things', { id: pg.serial('id').primaryKey() }) }),
        routes(app) { app.get('/', async () => ({ ok: true })); },
        onDatabaseReady() { throw new Error('cannot reach the weather service'); } });`,
    });
    folders.push(folder);
    t = await startApp({ PLUGINS_DIR: folder.path });
    const admin = await setUpWithAdmin(t, 'pglite');
    expect(t.app.setupStatus.snapshot().state).toBe('ready');
    const plugins = (await admin.call('GET', '/api/plugins')).json().plugins;
    expect(plugins).toEqual([
      expect.objectContaining({ id: 'blog', status: 'active' }),
      expect.objectContaining({ id: 'crashy', status: 'failed', error: 'cannot reach the weather service' }),
    ]);
    const crashy = await t.app.inject('/api/plugins/crashy/');
    expect(crashy.statusCode).toBe(503);
    expect(crashy.json()).toEqual({ error: 'plugin_unavailable', message: expect.stringContaining('crashy plugin is failed') });
    expect((await t.app.inject('/api/plugins/blog/')).statusCode).toBe(200);
  });
});
