import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { tempDir } from '../../../../test/helpers/temp.ts';

describe('GET /api/db/status', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('reports an unconfigured instance with no database behind it', async () => {
    t = await startApp();
    const response = await t.app.inject('/api/db/status');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/application\/json/);
    expect(response.json()).toEqual({ configured: false, initialized: false, dialect: null, type: null, state: 'unconfigured' });
  });

  it.each([
    ['not JSON', '{"type": "pglite",'],
    ['an unknown database type', '{"type":"mongodb","selectedAt":"2026-01-01T00:00:00Z","version":1}'],
    ['an unknown format version', '{"type":"pglite","selectedAt":"2026-01-01T00:00:00Z","version":99}'],
  ])('reports a selection file that is %s as an error, keeps serving and leaves the file alone', async (_name, content) => {
    const folder = tempDir();
    const file = join(folder.path, 'db.selection.json');
    writeFileSync(file, content);
    try {
      t = await startApp({}, { dataDir: folder.path });
      const status = (await t.app.inject('/api/db/status')).json();
      expect(status).toMatchObject({ state: 'error', initialized: false });
      expect(status.error).toContain('db.selection.json');
      expect(status.error).toMatch(/Fix it or remove it/);
      expect(status.error).not.toContain(folder.path);

      const setup = await t.setUp('pglite');
      expect(setup.statusCode).toBe(409);
      expect(setup.json().error).toBe('selection_invalid');
      expect((await t.app.inject('/api/health')).statusCode).toBe(200);
      expect(readFileSync(file, 'utf8')).toBe(content);
    } finally {
      folder.remove();
    }
  });

  it('reports a missing PERSISTENT_DATA_DIR as an error and refuses setup before touching a database', async () => {
    t = await startApp({}, { dataDir: '/nonexistent/groundwork-data' });
    expect(t.app.setupStatus.snapshot(true)).toMatchObject({
      state: 'error',
      error: 'The persistent data folder (PERSISTENT_DATA_DIR) cannot be used; the server log has the details.',
      detail: expect.stringMatching(/PERSISTENT_DATA_DIR \(\/nonexistent\/groundwork-data\) does not exist/),
    });
    const setup = await t.setUp('pglite');
    expect(setup.statusCode).toBe(500);
    expect(setup.json()).toEqual({ error: 'storage_error', message: expect.stringContaining('does not exist') });
  });

  it('reports a PERSISTENT_DATA_DIR it cannot write to (even as root: /proc) and writes nothing', async () => {
    t = await startApp({}, { dataDir: '/proc' });
    expect(t.app.setupStatus.snapshot(true)).toMatchObject({ state: 'error', detail: expect.stringMatching(/PERSISTENT_DATA_DIR \(\/proc\) is not writable/) });
    const setup = await t.setUp('pglite');
    expect(setup.statusCode).toBe(500);
    expect(setup.json()).toEqual({ error: 'storage_error', message: expect.stringContaining('is not writable') });
  });

  it('never returns the setup token', async () => {
    t = await startApp({ SETUP_TOKEN: '' });
    const token = readFileSync(join(t.dataDir, 'setup-token'), 'utf8').trim();
    for (const url of ['/api/db/status', '/api/health', '/api/health/ready', '/api/docs/json', '/setup?token=x']) {
      expect((await t.app.inject(url)).body).not.toContain(token);
    }
  });
});
