import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';

// The second example plugin: its schemas refuse bad input with the code of the part that is wrong.
describe('the audit_log example plugin\'s routes', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof setUpWithAdmin>>;
  beforeAll(async () => {
    t = await startApp();
    admin = await setUpWithAdmin(t, 'pglite');
  });
  afterAll(() => t.close());

  it('records an entry and lists it, dates as ISO 8601 strings', async () => {
    const created = await admin.call('POST', '/api/plugins/audit_log/', { action: 'login', actor: 'ada', details: { ip: '10.0.0.1' } });
    expect(created.statusCode).toBe(201);
    const entry = { id: expect.any(Number), action: 'login', actor: 'ada', details: { ip: '10.0.0.1' }, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) };
    expect(created.json()).toEqual(entry);
    expect((await admin.call('GET', '/api/plugins/audit_log/?limit=1')).json()).toEqual([entry]);
  });

  it.each([
    ['no actor', { action: 'login' }, /Missing field "actor"/],
    ['details that are not an object', { action: 'login', actor: 'ada', details: [1] }, /"details" must be an object/],
    ['an unknown field', { action: 'login', actor: 'ada', when: 'now' }, /Unknown field "when" in the body/],
  ])('answers POST with %s with 400 invalid_body', async (_what, body, message) => {
    const response = await admin.call('POST', '/api/plugins/audit_log/', body);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'invalid_body', message: expect.stringMatching(message) });
  });

  it.each(['limit=0', 'limit=-5', 'limit=1e2', 'actor=ada'])('answers GET /api/plugins/audit_log/?%s with 400 invalid_query', async (query) => {
    const response = await admin.call('GET', `/api/plugins/audit_log/?${query}`);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'invalid_query', message: expect.any(String) });
  });

  it('checks the admin token before the body or the query', async () => {
    expect((await t.app.inject({ method: 'POST', url: '/api/plugins/audit_log/', payload: { nope: 1 } })).json().error).toBe('admin_token_required');
    expect((await t.app.inject('/api/plugins/audit_log/?limit=0')).json().error).toBe('admin_token_required');
  });
});
