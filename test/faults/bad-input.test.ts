import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globalSettings } from '../../services/backend/src/db/schema/index.ts';
import { setUpWithAdmin } from '../helpers/admin.ts';
import { startApp, type TestApp } from '../helpers/app.ts';

/** Malformed bodies: not JSON, wrong shapes, wrong types, odd encodings, oversized. */
const BODIES: (string | Buffer)[] = [
  '',
  ' ',
  'null',
  'true',
  '42',
  '"pglite"',
  '[]',
  '[{"type":"pglite"}]',
  '{}',
  '{"type":null}',
  '{"type":1}',
  '{"type":["pglite"]}',
  '{"type":{"$ne":""}}',
  '{"type":"PGLITE"}',
  '{"type":"pglite "}',
  '{"type":"mysql"}',
  '{"type":"pglite","extra":1}',
  '{"type":"postgresql","host":"evil.example","password":"x"}',
  '{"value":1,"type":"pglite"}',
  '{"type":"pglite"',
  '{type:"pglite"}',
  "{'type':'pglite'}",
  '{"type":"pglite"}{"type":"pglite"}',
  '{"__proto__":{"admin":true}}',
  '{"constructor":{"prototype":{"x":1}}}',
  '{"type":"\\u0000"}',
  '{"type":"\\ud800"}',
  Buffer.from([0xff, 0xfe, 0x7b, 0x00]),
  Buffer.from([0xc3, 0x28, 0x7b, 0x7d]),
  `{"type":"${'x'.repeat(5_000)}"}`,
  `{"value":"${'x'.repeat(70_000)}"}`,
  '['.repeat(5_000),
  '{"value":' + '['.repeat(200) + ']'.repeat(200) + '}',
  '{"value":1e309}',
  '{"value":"NaN"}',
];

const CONTENT_TYPES = ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=utf-16', undefined];

const SETUP_TOKENS = [undefined, '', 'wrong-token', 'x'.repeat(4_096)];

function snapshotFiles(folder: string): string {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    // pglite.staged: the PGlite setup the unconfigured server prepares in the background, not the requests' doing.
    .filter((entry) => entry.isFile() && !entry.name.includes('groundwork.lock') && !entry.parentPath.includes('pglite.staged'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort()
    .map((path) => `${path}:${createHash('sha256').update(readFileSync(path)).digest('hex')}`)
    .join('\n');
}

function expectClientError(response: { statusCode: number; json(): unknown; body: string }, what: string) {
  expect(response.statusCode, `${what} → ${response.statusCode} ${response.body.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
  expect(response.statusCode, `${what} → ${response.statusCode} ${response.body.slice(0, 200)}`).toBeLessThan(500);
  expect(response.json(), what).toEqual({ error: expect.any(String), message: expect.any(String) });
}

describe('a generated suite of malformed requests', () => {
  let unconfigured: TestApp;
  let ready: TestApp;
  let adminToken: string;
  beforeAll(async () => {
    unconfigured = await startApp({ SETUP_TOKEN: '' });
    ready = await startApp();
    adminToken = (await setUpWithAdmin(ready, 'pglite')).token;
  });
  afterAll(async () => {
    await unconfigured.close();
    await ready.close();
  });

  it('answers every one with a 4xx in the one error shape, and changes nothing', async () => {
    const requests: { what: string; app: TestApp; options: InjectOptions }[] = [];
    const withBody = (body: string | Buffer, contentType: string | undefined, headers: Record<string, string>) => ({
      payload: body,
      headers: { ...headers, ...(contentType ? { 'content-type': contentType } : {}) },
    });
    for (const body of BODIES) {
      for (const contentType of CONTENT_TYPES) {
        for (const token of SETUP_TOKENS) {
          const headers: Record<string, string> = token === undefined ? {} : { 'x-setup-token': token };
          requests.push({ what: `setup ${contentType} ${token?.slice(0, 8)} ${String(body).slice(0, 40)}`, app: unconfigured, options: { method: 'POST', url: '/api/db/setup', ...withBody(body, contentType, headers) } });
          requests.push({ what: `test connection ${contentType} ${token?.slice(0, 8)} ${String(body).slice(0, 40)}`, app: unconfigured, options: { method: 'POST', url: '/api/db/test', ...withBody(body, contentType, headers) } });
        }
        requests.push({
          what: `put setting ${contentType} ${String(body).slice(0, 40)}`,
          app: ready,
          options: { method: 'PUT', url: '/api/settings/mail.port', ...withBody(body, contentType, { authorization: `Bearer ${adminToken}` }) },
        });
        requests.push({
          what: `put setting without admin ${contentType}`,
          app: ready,
          options: { method: 'PUT', url: '/api/settings/mail.password', ...withBody(body, contentType, { authorization: 'Bearer nope' }) },
        });
      }
    }
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH'] as const) {
      requests.push({ what: `${method} /api/db/setup`, app: unconfigured, options: { method, url: '/api/db/setup' } });
      requests.push({ what: `${method} /api/db/test`, app: unconfigured, options: { method, url: '/api/db/test' } });
    }
    for (const url of ['/api/settings/mail', '/api/settings/.port', '/api/settings/MAIL.PORT', `/api/settings/${'a'.repeat(300)}.b`, '/api/settings/mail.port%00', '/api/settings/../db/setup', '/api/settings/mail.nothing']) {
      requests.push({ what: `GET ${url}`, app: ready, options: { method: 'GET', url, headers: { authorization: `Bearer ${adminToken}` } } });
    }
    for (const authorization of ['', 'Bearer', 'Bearer ', `bearer ${'x'.repeat(10_000)}`, 'Token abc', `Bearer ${adminToken}x`, `Basic ${Buffer.from('admin:admin').toString('base64')}`]) {
      requests.push({ what: `auth ${authorization.slice(0, 20)}`, app: ready, options: { method: 'GET', url: '/api/settings', headers: { authorization } } });
    }
    expect(requests.length).toBeGreaterThanOrEqual(1_000);

    const filesBefore = [snapshotFiles(unconfigured.dataDir), snapshotFiles(ready.dataDir)];
    const settingsBefore = await ready.app.activeDatabase.db.select().from(globalSettings).orderBy(globalSettings.key);

    for (const { what, app, options } of requests) expectClientError(await app.app.inject(options), what);

    expect([snapshotFiles(unconfigured.dataDir), snapshotFiles(ready.dataDir)]).toEqual(filesBefore);
    expect(await ready.app.activeDatabase.db.select().from(globalSettings).orderBy(globalSettings.key)).toEqual(settingsBefore);
    expect(unconfigured.app.setupStatus.snapshot()).toMatchObject({ state: 'unconfigured', configured: false });
    expect(ready.app.setupStatus.snapshot().state).toBe('ready');
  });
});
