import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_DEPTH, nestsDeeperThan } from '../../src/fastify/json-body.ts';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { pluginsFolder } from '../../../../test/helpers/plugins.ts';

const nested = (depth: number, inner = '') => '['.repeat(depth) + inner + ']'.repeat(depth);

describe('nestsDeeperThan', () => {
  it('counts brackets outside strings only', () => {
    expect(nestsDeeperThan(nested(3), 3)).toBe(false);
    expect(nestsDeeperThan(nested(4), 3)).toBe(true);
    expect(nestsDeeperThan('{"a":{"b":[1]}}', 3)).toBe(false);
    expect(nestsDeeperThan('{"a":{"b":[[1]]}}', 3)).toBe(true);
    expect(nestsDeeperThan(`["${'['.repeat(100)}"]`, 1)).toBe(false);
    expect(nestsDeeperThan(`["a\\"${'{'.repeat(100)}"]`, 1)).toBe(false);
    expect(nestsDeeperThan(`["a\\\\",${nested(2)}]`, 2)).toBe(true);
  });
});

// A plugin route with no schema: without the app's parser its handler would get any parsed body.
const echoPlugin = `
export default definePlugin({
  id: 'echo',
  name: 'Echo',
  version: '1.0.0',
  tables: () => ({}),
  routes(app) {
    app.post('/', async (request) => ({ received: JSON.stringify(request.body).length }));
  },
});`;

describe('JSON bodies nested too deeply', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof setUpWithAdmin>>;
  let plugins: ReturnType<typeof pluginsFolder>;
  const send = (method: 'PUT' | 'POST', url: string, body: string) =>
    t.app.inject({ method, url, payload: body, headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.token}` } });

  beforeAll(async () => {
    plugins = pluginsFolder({ echo: echoPlugin });
    t = await startApp({ PLUGINS_DIR: plugins.path });
    admin = await setUpWithAdmin(t, 'pglite');
  });
  afterAll(async () => {
    await t.close();
    plugins.remove();
  });

  it('PUT /api/settings/:key: 400 body_too_deep for a value nested 4,000 deep (8 kB), and the setting keeps its value', async () => {
    const response = await send('PUT', '/api/settings/security.allowed_origins', `{"value":${nested(4_000)}}`);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'body_too_deep', message: expect.stringContaining(`${MAX_BODY_DEPTH} levels`) });
    expect(t.app.settings.get('security.allowed_origins')).toEqual([]);
    // One level past the limit is refused too; the limit itself is fine.
    expect((await send('PUT', '/api/settings/security.allowed_origins', `{"value":${nested(MAX_BODY_DEPTH)}}`)).json().error).toBe('body_too_deep');
    const atLimit = await send('PUT', '/api/settings/security.allowed_origins', `{"value":${nested(MAX_BODY_DEPTH - 1)}}`);
    expect(atLimit.statusCode).toBe(200);
    expect((await admin.call('PUT', '/api/settings/security.allowed_origins', { value: null })).statusCode).toBe(200);
  });

  it('PUT /api/settings/:key: a value over the size bound is an invalid_setting_value', async () => {
    const response = await admin.call('PUT', '/api/settings/security.allowed_origins', { value: Array.from({ length: 2_000 }, (_, i) => `https://a${i}.example`) });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'invalid_setting_value', message: 'security.allowed_origins must be at most 32 kB as JSON.' });
  });

  it("a plugin route's JSON body gets the same limit before its handler runs", async () => {
    const deep = await send('POST', '/api/plugins/echo/', nested(4_000));
    expect(deep.statusCode).toBe(400);
    expect(deep.json()).toEqual({ error: 'body_too_deep', message: expect.any(String) });
    const fine = await send('POST', '/api/plugins/echo/', `{"a":${nested(10, '"]]]]"')}}`);
    expect(fine.statusCode).toBe(200);
    // Fastify's own checks still run behind the depth check.
    expect((await send('POST', '/api/plugins/echo/', '{"__proto__":{"admin":true}}')).statusCode).toBe(400);
    expect((await send('POST', '/api/plugins/echo/', '[[1]')).json().error).toBe('invalid_json');
  });
});
