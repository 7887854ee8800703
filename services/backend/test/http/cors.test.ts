import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, TEST_SETUP_TOKEN, type TestApp } from '../../../../test/helpers/app.ts';

const APP_ORIGIN = 'https://app.example.com';
const HOST = 'localhost:3000';

describe('Origin check on requests that change something', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());
  const setup = (origin: string, host = HOST) =>
    t.app.inject({ method: 'POST', url: '/api/db/setup', headers: { host, origin, 'x-setup-token': 'wrong-token-0123456789' }, payload: { type: 'pglite' } });

  it('refuses a POST from a page of another origin with 403 origin_not_allowed', async () => {
    for (const origin of ['http://attacker.example', 'http://localhost:4000', 'http://localhost:3000.attacker.example', 'null']) {
      const response = await setup(origin);
      expect(response.statusCode, origin).toBe(403);
      expect(response.json()).toEqual({ error: 'origin_not_allowed', message: expect.stringContaining('security.allowed_origins') });
    }
    expect(t.app.setupStatus.snapshot().state).toBe('unconfigured');
  });

  it('lets through the server\'s own pages (default ports included) and GETs from anywhere', async () => {
    expect((await setup('http://localhost:3000')).json().error).toBe('invalid_setup_token');
    expect((await setup('http://localhost', 'localhost:80')).json().error).toBe('invalid_setup_token');
    expect((await setup('http://localhost', 'localhost')).json().error).toBe('invalid_setup_token');
    const status = await t.app.inject({ url: '/api/db/status', headers: { host: HOST, origin: 'http://attacker.example' } });
    expect(status.statusCode).toBe(200);
    expect(status.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('CORS from security.allowed_origins', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await startApp({ SETUP_TOKEN: TEST_SETUP_TOKEN });
    ({ token } = await setUpWithAdmin(t, 'pglite'));
  });
  afterAll(() => t.close());

  const preflight = (origin: string) =>
    t.app.inject({
      method: 'OPTIONS',
      url: '/api/settings/mail.port',
      headers: { host: HOST, origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization,content-type' },
    });
  const put = (origin: string, key: string, value: unknown) =>
    t.app.inject({ method: 'PUT', url: `/api/settings/${key}`, headers: { host: HOST, origin, authorization: `Bearer ${token}` }, payload: { value } });
  const setAllowedOrigins = async (value: unknown) => {
    const response = await t.app.inject({ method: 'PUT', url: '/api/settings/security.allowed_origins', headers: { authorization: `Bearer ${token}` }, payload: { value } });
    expect(response.statusCode).toBe(200);
  };

  it('gives no CORS headers and refuses changes while the origin is not listed', async () => {
    const response = await preflight(APP_ORIGIN);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    const change = await put(APP_ORIGIN, 'mail.port', 2525);
    expect(change.statusCode).toBe(403);
    expect(change.json().error).toBe('origin_not_allowed');
  });

  it('follows the setting as soon as it changes: listed origins get CORS and may change things, others do not', async () => {
    await setAllowedOrigins([`${APP_ORIGIN}/`, 'https://other.example.com']);

    const allowed = await preflight(APP_ORIGIN);
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(String(allowed.headers['access-control-allow-methods'])).toContain('PUT');
    expect(String(allowed.headers.vary)).toContain('Origin');

    const changed = await put(APP_ORIGIN, 'mail.port', 2525);
    expect(changed.statusCode).toBe(200);
    expect(changed.headers['access-control-allow-origin']).toBe(APP_ORIGIN);

    const unlisted = await preflight('https://evil.example.com');
    expect(unlisted.headers['access-control-allow-origin']).toBeUndefined();
    expect((await put('https://evil.example.com', 'mail.port', 25)).statusCode).toBe(403);

    await setAllowedOrigins(null);
    expect((await preflight(APP_ORIGIN)).headers['access-control-allow-origin']).toBeUndefined();
    expect((await put(APP_ORIGIN, 'mail.port', null)).statusCode).toBe(403);
    expect(t.app.settings.get('mail.port')).toBe(2525);
  });
});
