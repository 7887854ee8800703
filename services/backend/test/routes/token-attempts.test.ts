import { afterEach, describe, expect, it } from 'vitest';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, TEST_SETUP_TOKEN, type TestApp } from '../../../../test/helpers/app.ts';
import { TOKEN_FAILURE_LIMIT } from '../../src/fastify/token-rate-limit.ts';

const OTHER_ADDRESS = '203.0.113.7';

/** GET /api/db/environment checks the setup token and changes nothing: a cheap way to guess. */
function withSetupToken(t: TestApp, token: string | undefined, remoteAddress?: string) {
  return t.app.inject({ method: 'GET', url: '/api/db/environment', headers: token === undefined ? {} : { 'x-setup-token': token }, ...(remoteAddress ? { remoteAddress } : {}) });
}

function withAdminToken(t: TestApp, token: string, remoteAddress?: string) {
  return t.app.inject({ method: 'GET', url: '/api/settings', headers: { authorization: `Bearer ${token}` }, ...(remoteAddress ? { remoteAddress } : {}) });
}

const warnings = (t: TestApp) => t.logs.map((line) => JSON.parse(line) as { level: number; msg: string; clientAddress?: string }).filter((entry) => entry.level === 40);

function expectLockedOut(response: Awaited<ReturnType<typeof withSetupToken>>) {
  expect(response.statusCode).toBe(429);
  expect(response.json()).toEqual({ error: 'too_many_attempts', message: expect.stringMatching(/Too many wrong tokens.*\d+ seconds/) });
  expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(Number(response.headers['retry-after'])).toBeLessThanOrEqual(60);
}

describe('wrong tokens from one address', () => {
  let t: TestApp;
  afterEach(() => t.close());

  it('get 429 with Retry-After after the limit of wrong setup tokens; right tokens before never count; the log says where from, not what', async () => {
    t = await startApp();
    // Successes and missing tokens are not guesses: any number of them.
    for (let i = 0; i < TOKEN_FAILURE_LIMIT * 3; i += 1) {
      expect((await withSetupToken(t, TEST_SETUP_TOKEN)).statusCode).toBe(200);
      expect((await withSetupToken(t, undefined)).json().error).toBe('setup_token_required');
    }

    const guesses = Array.from({ length: TOKEN_FAILURE_LIMIT }, (_, i) => `guess-number-${i}-abcdefgh`);
    for (const guess of guesses) expect((await withSetupToken(t, guess)).json().error).toBe('invalid_setup_token');

    expectLockedOut(await withSetupToken(t, 'one-more-guess-abcdefgh'));
    // Locked out, the right token is refused as well, so a 429 tells nothing about a guess.
    expectLockedOut(await withSetupToken(t, TEST_SETUP_TOKEN));
    expectLockedOut(await t.setUp('pglite'));
    // Another address is not affected.
    expect((await withSetupToken(t, TEST_SETUP_TOKEN, OTHER_ADDRESS)).statusCode).toBe(200);
    // Nor is anything that carries no token.
    expect((await t.app.inject('/api/db/status')).statusCode).toBe(200);

    const failureLines = warnings(t).filter((entry) => /Wrong setup token/.test(entry.msg));
    expect(failureLines).toHaveLength(TOKEN_FAILURE_LIMIT);
    for (const entry of failureLines) {
      expect(entry.clientAddress).toBe('127.0.0.1');
      expect(entry.msg).toContain('127.0.0.1');
    }
    const log = t.logs.join('\n');
    for (const secret of [...guesses, 'one-more-guess-abcdefgh', TEST_SETUP_TOKEN]) expect(log).not.toContain(secret);
  });

  it('cannot slip a burst of parallel guesses past the limit; a burst of right tokens all go through', async () => {
    t = await startApp();
    const rights = await Promise.all(Array.from({ length: TOKEN_FAILURE_LIMIT * 4 }, () => withSetupToken(t, TEST_SETUP_TOKEN)));
    expect(rights.map((response) => response.statusCode)).toEqual(rights.map(() => 200));

    const guesses = await Promise.all(Array.from({ length: 50 }, (_, i) => withSetupToken(t, `parallel-guess-${i}-abcdefgh`)));
    const codes = guesses.map((response) => response.statusCode);
    expect(codes.filter((code) => code === 401)).toHaveLength(TOKEN_FAILURE_LIMIT);
    expect(codes.filter((code) => code === 429)).toHaveLength(50 - TOKEN_FAILURE_LIMIT);
  });

  it('get 429 after the limit of wrong admin tokens; admin calls with the right token are never limited', async () => {
    t = await startApp();
    const admin = await setUpWithAdmin(t, 'pglite');
    for (let i = 0; i < TOKEN_FAILURE_LIMIT * 3; i += 1) expect((await withAdminToken(t, admin.token)).statusCode).toBe(200);

    for (let i = 0; i < TOKEN_FAILURE_LIMIT; i += 1) {
      expect((await withAdminToken(t, `gwa_wrong-admin-token-${i}`)).json().error).toBe('invalid_admin_token');
    }
    expectLockedOut(await withAdminToken(t, 'gwa_wrong-admin-token-last'));
    expectLockedOut(await withAdminToken(t, admin.token));
    expect((await withAdminToken(t, admin.token, OTHER_ADDRESS)).statusCode).toBe(200);

    const failureLines = warnings(t).filter((entry) => /Wrong admin token/.test(entry.msg));
    expect(failureLines).toHaveLength(TOKEN_FAILURE_LIMIT);
    expect(failureLines.every((entry) => entry.clientAddress === '127.0.0.1')).toBe(true);
    expect(t.logs.join('\n')).not.toContain('wrong-admin-token');
    expect(t.logs.join('\n')).not.toContain(admin.token);
  });
});
