import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';

// The example plugins are what plugin authors copy: their routes must answer bad input with a 400.
describe('the notes example plugin\'s routes', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof setUpWithAdmin>>;
  beforeAll(async () => {
    t = await startApp();
    admin = await setUpWithAdmin(t, 'pglite');
  });
  afterAll(() => t.close());

  it.each(['abc', '0', '-1', '1.5', '12345678901'])('answers GET /api/plugins/notes/%s with 400 invalid_params', async (id) => {
    const response = await admin.call('GET', `/api/plugins/notes/${id}`);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'invalid_params', message: expect.stringContaining('"id"') });
  });

  it.each([
    ['no title', {}, /Missing field "title"/],
    ['an empty title', { title: '' }, /"title"/],
    ['a title that is not a string', { title: 7 }, /"title" must be a string/],
    ['an unknown field', { title: 'x', author: 'me' }, /Unknown field "author" in the body/],
  ])('answers POST with %s with 400 invalid_body', async (_what, body, message) => {
    const response = await admin.call('POST', '/api/plugins/notes/', body);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'invalid_body', message: expect.stringMatching(message) });
  });

  it.each(['limit=0', 'limit=101', 'limit=ten', 'limit=1&sort=title'])('answers GET /api/plugins/notes/?%s with 400 invalid_query', async (query) => {
    const response = await admin.call('GET', `/api/plugins/notes/?${query}`);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'invalid_query', message: expect.stringMatching(/"limit"|"sort" in the query string/) });
  });

  it('lists the newest notes up to ?limit, dates as ISO 8601 strings', async () => {
    for (const title of ['Older', 'Newer']) expect((await admin.call('POST', '/api/plugins/notes/', { title })).statusCode).toBe(201);
    const listed = await admin.call('GET', '/api/plugins/notes/?limit=1');
    expect(listed.statusCode).toBe(200);
    expect(listed.json()).toEqual([{ id: expect.any(Number), title: 'Newer', body: '', createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) }]);
  });

  it('finds a note by id, and says 404 for an id no note has', async () => {
    const created = await admin.call('POST', '/api/plugins/notes/', { title: 'First' });
    expect(created.statusCode).toBe(201);
    const { id } = created.json();
    expect((await admin.call('GET', `/api/plugins/notes/${id}`)).json()).toMatchObject({ id, title: 'First' });
    for (const missing of [id + 1000, 9_999_999_999]) {
      const response = await admin.call('GET', `/api/plugins/notes/${missing}`);
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ error: 'not_found', message: `No note ${missing}.` });
    }
  });

  it('checks the admin token first', async () => {
    const response = await t.app.inject('/api/plugins/notes/abc');
    expect(response.statusCode).toBe(401);
  });
});
