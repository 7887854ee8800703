import { afterEach, describe, expect, it } from 'vitest';
import { startApp, TEST_SETUP_TOKEN, type TestApp } from '../../../../test/helpers/app.ts';
import { createTestDatabase } from '../../../../test/helpers/postgres.ts';

function environment(t: TestApp, token: string | null = TEST_SETUP_TOKEN) {
  return t.app.inject({ method: 'GET', url: '/api/db/environment', headers: token === null ? {} : { 'x-setup-token': token } });
}

describe('GET /api/db/environment', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('says PostgreSQL is not configured when the environment has no settings', async () => {
    t = await startApp();
    const response = await environment(t);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ postgresql: { configured: false } });
  });

  it('shows the POSTGRES_* settings without the password', async () => {
    const password = 'env-Secret-Password-77';
    t = await startApp({ POSTGRES_HOST: 'db.internal', POSTGRES_PORT: '6543', POSTGRES_DATABASE: 'app', POSTGRES_USER: 'groundwork', POSTGRES_PASSWORD: password, POSTGRES_SSL: 'true' });
    const response = await environment(t);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ postgresql: { configured: true, host: 'db.internal', port: 6543, database: 'app', user: 'groundwork', ssl: true } });
    expect(response.body).not.toContain(password);
  });

  it('shows what DATABASE_URL names without the password', async () => {
    const password = 'url-Secret-Password-88';
    t = await startApp({ DATABASE_URL: `postgres://owner:${password}@pg.example.com:5433/shop?sslmode=require` });
    const response = await environment(t);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ postgresql: { configured: true, host: 'pg.example.com', port: 5433, database: 'shop', user: 'owner', ssl: true } });
    expect(response.body).not.toContain(password);
    expect(t.logs.join('')).not.toContain(password);
  });

  it.each([
    { name: 'no token', token: null, error: 'setup_token_required' },
    { name: 'wrong token', token: 'not-the-token-at-all', error: 'invalid_setup_token' },
  ])('refuses $name with 401: host names are not public', async ({ token, error }) => {
    t = await startApp({ POSTGRES_HOST: 'db.internal', POSTGRES_DATABASE: 'app', POSTGRES_USER: 'groundwork' });
    const response = await environment(t, token);
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ error, message: expect.any(String) });
    expect(response.body).not.toContain('db.internal');
  });

  it('answers 409 once the instance is set up, and never shows the real password', async () => {
    const db = await createTestDatabase();
    try {
      t = await startApp(db.env);
      const before = await environment(t);
      expect(before.statusCode).toBe(200);
      expect(before.json().postgresql).toMatchObject({ configured: true, database: db.name, ssl: false });
      expect(before.body).not.toContain(db.env.POSTGRES_PASSWORD);

      expect((await t.setUp('postgresql')).statusCode).toBe(200);
      const after = await environment(t);
      expect(after.statusCode).toBe(409);
      expect(after.json()).toEqual({ error: 'already_configured', message: expect.any(String) });
    } finally {
      await t?.close();
      t = undefined;
      await db.drop();
    }
  });
});
