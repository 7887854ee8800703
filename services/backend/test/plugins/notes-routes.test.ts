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

  it.each(['abc', '0', '-1', '1.5', '12345678901'])('answers GET /api/plugins/notes/%s with 400 invalid_body', async (id) => {
    const response = await admin.call('GET', `/api/plugins/notes/${id}`);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'invalid_body', message: expect.stringContaining('"id"') });
  });

  it('finds a note by id, and says 404 for an id no note has', async () => {
    const created = await admin.call('POST', '/api/plugins/notes/', { title: 'First' });
    expect(created.statusCode).toBe(201);
    const { id } = created.json();
    expect((await admin.call('GET', `/api/plugins/notes/${id}`)).json()).toMatchObject({ id, title: 'First' });
    for (const missing of [id + 1000, 9_999_999_999]) {
      const response = await admin.call('GET', `/api/plugins/notes/${missing}`);
      expect(response.statusCode).toBe(404);
      expect(response.json().error).toBe('not_found');
    }
  });

  it('checks the admin token first', async () => {
    const response = await t.app.inject('/api/plugins/notes/abc');
    expect(response.statusCode).toBe(401);
  });
});
