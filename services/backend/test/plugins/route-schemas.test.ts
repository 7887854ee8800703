import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/paths.ts';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { pluginsFolder } from '../../../../test/helpers/plugins.ts';

const API = JSON.stringify(join(REPO_ROOT, 'services/backend/src/plugins/index.ts'));

// A plugin from PLUGINS_DIR takes TypeBox and the shared error schema from the plugin API, like the core's routes.
const echoPlugin = `
import { Type, errorRef } from ${API};
export default definePlugin({
  id: 'echo',
  name: 'Echo',
  version: '1.0.0',
  tables: () => ({}),
  routes(app) {
    app.post('/:word', {
      schema: {
        params: Type.Object({ word: Type.String({ pattern: '^[a-z]+$' }) }),
        querystring: Type.Object({ times: Type.Optional(Type.String({ pattern: '^[1-9]$' })) }, { additionalProperties: false }),
        headers: Type.Object({ 'x-echo-mood': Type.Optional(Type.Enum(['calm', 'loud'])) }),
        body: Type.Object({ suffix: Type.String() }, { additionalProperties: false }),
        response: { 200: Type.Object({ echo: Type.String() }, { additionalProperties: false }), '4xx': errorRef, '5xx': errorRef },
      },
    }, async (request, reply) => {
      if (request.body.suffix === 'teapot') return reply.status(418).send({ error: 'teapot', message: 'Short and stout.', extra: 'dropped by the error schema' });
      return { echo: (request.params.word + request.body.suffix).repeat(Number(request.query.times ?? 1)), unlisted: 'dropped' };
    });
  },
});`;

describe('a plugin\'s route schemas', () => {
  let t: TestApp;
  let folder: ReturnType<typeof pluginsFolder>;
  beforeAll(async () => {
    folder = pluginsFolder({ echo: echoPlugin });
    t = await startApp({ PLUGINS_DIR: folder.path });
    await setUpWithAdmin(t, 'pglite');
  });
  afterAll(async () => {
    await t.close();
    folder.remove();
  });

  const call = (url: string, payload: unknown, headers: Record<string, string> = {}) => t.app.inject({ method: 'POST', url: `/api/plugins/echo${url}`, payload: payload as object, headers });

  it('validates with TypeBox and serializes with the response schemas', async () => {
    const ok = await call('/hi?times=2', { suffix: '!' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ echo: 'hi!hi!' });
    // The shared error schema resolves in the plugin's scope: the one error shape, nothing more.
    const teapot = await call('/hi', { suffix: 'teapot' });
    expect(teapot.statusCode).toBe(418);
    expect(teapot.json()).toEqual({ error: 'teapot', message: 'Short and stout.' });
  });

  it.each([
    ['params', '/HI', { suffix: '!' }, {}, 'invalid_params', /"word" must match pattern/],
    ['query', '/hi?times=0', { suffix: '!' }, {}, 'invalid_query', /"times" must match pattern/],
    ['unknown query field', '/hi?loud=1', { suffix: '!' }, {}, 'invalid_query', /Unknown field "loud" in the query string/],
    ['headers', '/hi', { suffix: '!' }, { 'x-echo-mood': 'angry' }, 'invalid_headers', /"x-echo-mood" must be one of: calm, loud/],
    ['body', '/hi', { suffix: 1 }, {}, 'invalid_body', /"suffix" must be a string/],
  ])('answers a bad %s with 400 and its own code', async (_part, url, body, headers, code, message) => {
    const response = await call(url, body, headers);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: code, message: expect.stringMatching(message) });
  });
});
