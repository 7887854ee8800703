import { afterEach, describe, expect, it } from 'vitest';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { blogPlugin, pluginsFolder } from '../../../../test/helpers/plugins.ts';

describe('a plugin whose routes() throws', () => {
  let t: TestApp | undefined;
  const folders: { remove(): void }[] = [];
  afterEach(async () => {
    await t?.close();
    t = undefined;
    folders.splice(0).forEach((folder) => folder.remove());
  });

  it('is marked failed with the error, stays failed after setup; the core and the other plugins carry on', async () => {
    const folder = pluginsFolder({
      blog: blogPlugin,
      broken: `export default definePlugin({ id: 'broken', name: 'Broken', version: '1', tables: () => ({}),
        // One route registered before the throw: it must not be served half set up.
        routes(app) { app.get('/', async () => ({ ok: true })); throw new Error('route table is malformed'); } });`,
    });
    folders.push(folder);
    t = await startApp({ PLUGINS_DIR: folder.path });
    const admin = await setUpWithAdmin(t, 'pglite');
    expect(t.app.setupStatus.snapshot().state).toBe('ready');

    const plugins = (await admin.call('GET', '/api/plugins')).json().plugins;
    expect(plugins).toEqual([
      expect.objectContaining({ id: 'blog', status: 'active' }),
      expect.objectContaining({ id: 'broken', status: 'failed', error: expect.stringContaining('route table is malformed') }),
    ]);
    const broken = await t.app.inject('/api/plugins/broken/');
    expect(broken.statusCode).toBe(503);
    expect(broken.json()).toEqual({ error: 'plugin_unavailable', message: expect.stringContaining('broken plugin is failed') });
    expect((await t.app.inject('/api/plugins/blog/')).statusCode).toBe(200);
  });
});
