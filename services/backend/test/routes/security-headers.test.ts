import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { TEST_SETUP_TOKEN } from '../../../../test/helpers/app.ts';
import { tempDir } from '../../../../test/helpers/temp.ts';

type Headers = Record<string, string | string[] | number | undefined>;

function expectSecurityHeaders(headers: Headers, what: string) {
  const csp = String(headers['content-security-policy']);
  for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"]) {
    expect(csp, `${what}: ${csp}`).toContain(directive);
  }
  expect(csp, what).not.toContain('unsafe-inline');
  expect(headers['referrer-policy'], what).toBe('no-referrer');
  expect(headers['x-content-type-options'], what).toBe('nosniff');
  expect(headers['x-frame-options'], what).toBe('DENY');
}

describe('security headers', () => {
  let app: App;
  const folders: Array<{ remove(): void }> = [];
  afterEach(async () => {
    await app.close();
    for (const folder of folders.splice(0)) folder.remove();
  });

  /** An app serving a small built front end, as after `npm run build`. */
  async function start() {
    const data = tempDir();
    const dist = tempDir();
    folders.push(data, dist);
    mkdirSync(join(dist.path, 'assets'));
    writeFileSync(join(dist.path, 'index.html'), '<!doctype html><script type="module" src="/assets/index.js"></script>');
    writeFileSync(join(dist.path, 'assets', 'index.js'), 'console.log(1)');
    app = await buildApp(loadConfig({ PERSISTENT_DATA_DIR: data.path, SETUP_TOKEN: TEST_SETUP_TOKEN, LOG_LEVEL: 'silent' }), { frontendDistDir: dist.path });
    await app.boot.start('http://localhost:0');
  }

  it('are on every page, asset, API answer and error', async () => {
    await start();
    const answers = {
      'the wizard page': await app.inject('/setup?token=abc'),
      'a script': await app.inject('/assets/index.js'),
      'status': await app.inject('/api/db/status'),
      'a 404': await app.inject('/api/nothing-here'),
      'a 401': await app.inject({ method: 'POST', url: '/api/db/setup', payload: { type: 'pglite' } }),
    };
    expect(answers['the wizard page'].headers['content-type']).toMatch(/text\/html/);
    for (const [what, response] of Object.entries(answers)) expectSecurityHeaders(response.headers, what);

    // Swagger UI sets an inline style: its pages alone allow inline styles; scripts stay the app's own.
    const docs = await app.inject('/api/docs/');
    expect(docs.statusCode).toBe(200);
    const docsCsp = String(docs.headers['content-security-policy']);
    expect(docsCsp).toContain("style-src 'self' 'unsafe-inline'");
    expect(docsCsp).toContain("script-src 'self';");
    expect(docsCsp).toContain("frame-ancestors 'none'");
    expect(docs.headers['referrer-policy']).toBe('no-referrer');
  });

  it('never lets an API answer be cached, above all the one with the admin token', async () => {
    await start();
    const setup = await app.inject({ method: 'POST', url: '/api/db/setup', headers: { 'x-setup-token': TEST_SETUP_TOKEN }, payload: { type: 'pglite' } });
    expect(setup.statusCode).toBe(200);
    expect(setup.json().admin_token).toMatch(/^gwa_/);
    expect(setup.headers['cache-control']).toBe('no-store');
    const admin = { authorization: `Bearer ${setup.json().admin_token}` };
    expect((await app.inject({ url: '/api/settings', headers: admin })).headers['cache-control']).toBe('no-store');
    expect((await app.inject('/api/db/status')).headers['cache-control']).toBe('no-store');
    // Hashed assets stay cacheable.
    expect((await app.inject('/assets/index.js')).headers['cache-control']).toMatch(/immutable/);
  });
});
