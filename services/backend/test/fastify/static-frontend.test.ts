import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { tempDir } from '../../../../test/helpers/temp.ts';

/** An app serving `distDir` as its built front end (no database needed: static files never touch one). */
async function appServing(distDir: string, dataDir: string): Promise<App> {
  const config = loadConfig({ PERSISTENT_DATA_DIR: dataDir, SETUP_TOKEN: 'static-test-setup-token-123', LOG_LEVEL: 'silent' });
  return buildApp(config, { frontendDistDir: distDir });
}

describe('serving the built web UI', () => {
  const data = tempDir();
  const dist = tempDir('groundwork-dist-');
  let app: App;
  beforeAll(async () => {
    // What `vite build` leaves: index.html, hashed assets, and files copied from public/.
    mkdirSync(join(dist.path, 'assets'));
    writeFileSync(join(dist.path, 'index.html'), '<!doctype html><div id="app"></div>');
    writeFileSync(join(dist.path, 'assets', 'index-3f2a1b.js'), 'console.log(1)');
    writeFileSync(join(dist.path, 'favicon.svg'), '<svg/>');
    app = await appServing(dist.path, data.path);
  });
  afterAll(async () => {
    await app.close();
    data.remove();
    dist.remove();
  });

  it('caches hashed assets for good and revalidates everything else', async () => {
    const asset = await app.inject('/assets/index-3f2a1b.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const favicon = await app.inject('/favicon.svg');
    expect(favicon.statusCode).toBe(200);
    expect(favicon.headers['cache-control']).toBe('no-cache');
  });

  it.each(['/', '/setup', '/setup?token=abc', '/some/client/route'])('GET %s (a page) → index.html, not cached', async (url) => {
    const page = await app.inject(url);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.body).toContain('<div id="app">');
  });

  it.each([
    ['GET', '/assets/missing-123.js'],
    ['GET', '/robots.txt'],
    ['GET', '/api/no-such-route'],
    ['POST', '/setup'],
  ] as const)('%s %s → a JSON 404, never the page', async (method, url) => {
    const response = await app.inject({ method, url });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'not_found', message: `Nothing at ${method} ${url}.` });
  });

  it('GET /metrics with metrics off → a JSON 404 saying how to turn them on, never the page', async () => {
    const response = await app.inject('/metrics');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'not_found', message: expect.stringContaining('METRICS_ENABLED=true') });
  });
});

describe('without a built web UI', () => {
  const data = tempDir();
  let app: App;
  beforeAll(async () => {
    app = await appServing(join(data.path, 'no-dist-here'), data.path);
  });
  afterAll(async () => {
    await app.close();
    data.remove();
  });

  it('answers a page with 404 frontend_not_built saying how to build it; the API still answers', async () => {
    const page = await app.inject('/setup');
    expect(page.statusCode).toBe(404);
    expect(page.json()).toEqual({ error: 'frontend_not_built', message: expect.stringContaining('npm run build') });
    expect((await app.inject('/assets/index.js')).json().error).toBe('not_found');
    expect((await app.inject('/api/health')).statusCode).toBe(200);
  });
});
