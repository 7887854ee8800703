import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, TEST_SETUP_TOKEN, type TestApp } from '../../../../test/helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../../../../test/helpers/postgres.ts';
import { freePort, TcpProxy } from '../../../../test/helpers/tcp-proxy.ts';
import { tempDir } from '../../../../test/helpers/temp.ts';
import { SettingsCipher } from '../../src/global-settings/crypto.ts';

/** GET status and readiness, with the given headers; both bodies as text. */
async function publicAnswers(t: TestApp, headers: Record<string, string> = {}) {
  const status = await t.app.inject({ url: '/api/db/status', headers });
  const ready = await t.app.inject({ url: '/api/health/ready', headers });
  expect(status.statusCode).toBe(200);
  expect(ready.statusCode).toBe(503);
  return { status: status.json(), ready: ready.json(), text: status.body + ready.body };
}

describe('GET /api/db/status and /api/health/ready tell strangers what failed, not where', () => {
  let t: TestApp | undefined;
  let db: TestDatabase | undefined;
  const folder = tempDir();
  afterEach(async () => {
    await t?.close();
    await db?.drop();
    t = db = undefined;
  });
  afterAll(() => folder.remove());

  it('PostgreSQL refusing the login: no host, port or user without a token; the setup token gets them', async () => {
    db = await createTestDatabase();
    const { POSTGRES_HOST: host, POSTGRES_PORT: port, POSTGRES_USER: user } = db.env;
    t = await startApp({ ...db.env, POSTGRES_PASSWORD: 'not-the-password-1234' });

    const anonymous = await publicAnswers(t);
    expect(anonymous.status).toMatchObject({ state: 'setting_up', configured: false, error: expect.stringMatching(/^The database cannot be reached; the server log has the details\. Retrying in 1 s\.$/) });
    expect(anonymous.ready).toEqual({ error: 'database_not_ready', message: 'The database is setting up.' });
    for (const secret of [host, `:${port}`, user, 'not-the-password-1234']) expect(anonymous.text).not.toContain(secret);
    // A wrong setup token unlocks nothing.
    expect((await publicAnswers(t, { 'x-setup-token': 'wrong-token-0123456789' })).text).not.toContain(user);

    const detailed = await publicAnswers(t, { 'x-setup-token': TEST_SETUP_TOKEN });
    const full = `Cannot connect to PostgreSQL at ${host}:${port}: password authentication failed for user "${user}"`;
    expect(detailed.status.detail).toContain(full);
    expect(detailed.ready).toEqual({ error: 'database_not_ready', message: 'The database is setting up.', detail: expect.stringContaining(full) });
    expect(detailed.text).not.toContain('not-the-password-1234');
    // The log is JSON lines: the quotes around the user name are escaped there.
    expect(t.logs.join('')).toContain(JSON.stringify(full).slice(1, -1));
  });

  it('a PGlite folder in use: no folder path without a token; the setup token gets it', async () => {
    t = await startApp();
    const dataDir = join(t.dataDir, 'pglite');
    mkdirSync(dataDir);
    // The test runner's parent process is alive and is not us.
    writeFileSync(join(dataDir, 'groundwork.lock'), String(process.ppid));
    expect((await t.setUp('pglite')).statusCode).toBe(409);

    const anonymous = await publicAnswers(t);
    expect(anonymous.status).toMatchObject({ state: 'unconfigured', error: 'The embedded database is in use by another process; the server log has the details.' });
    expect(anonymous.text).not.toContain(t.dataDir);
    expect(anonymous.status.detail).toBeUndefined();

    const detailed = await publicAnswers(t, { 'x-setup-token': TEST_SETUP_TOKEN });
    expect(detailed.status.detail).toContain(`The embedded database in ${dataDir} is in use by another Groundwork process (PID ${process.ppid})`);
    expect(detailed.ready.detail).toContain(dataDir);
  });

  it('a wrong encryption key: no key ids in the answers, only in the log', async () => {
    db = await createTestDatabase();
    const [secretA, secretB] = ['first-encryption-secret-0123456789abcdef', 'other-encryption-secret-0123456789abcdef'];
    t = await startApp({ ...db.env, ENCRYPTION_SECRET: secretA }, { dataDir: folder.path });
    await setUpWithAdmin(t, 'postgresql');
    await t.app.close();

    t = await startApp({ ...db.env, ENCRYPTION_SECRET: secretB }, { dataDir: folder.path });
    const [recorded] = await db.query<{ kdf_salt: string }>('select kdf_salt from settings_encryption');
    const keyIds = await Promise.all([secretA, secretB].map(async (secret) => (await SettingsCipher.fromSecret(secret, recorded!.kdf_salt)).keyId));
    const anonymous = await publicAnswers(t);
    expect(anonymous.status).toMatchObject({ state: 'error', error: 'The settings encryption key is missing or does not match this database; the server log has the details.' });
    // Set up already: the setup token no longer unlocks details either.
    const withSetupToken = await publicAnswers(t, { 'x-setup-token': TEST_SETUP_TOKEN });
    for (const keyId of keyIds) {
      expect(anonymous.text).not.toContain(keyId);
      expect(withSetupToken.text).not.toContain(keyId);
      expect(t.logs.join('')).toContain(keyId);
    }
  });

  it('the admin token gets the reason readiness failed, also while the database is down', async () => {
    db = await createTestDatabase();
    const port = await freePort();
    const proxy = new TcpProxy(port, Number(db.env.POSTGRES_PORT));
    await proxy.start();
    try {
      t = await startApp({ ...db.env, POSTGRES_PORT: String(port) });
      const admin = await setUpWithAdmin(t, 'postgresql');
      const bearer = { authorization: `Bearer ${admin.token}` };
      // Accepted while the database answers; remembered for when it does not.
      expect((await admin.call('GET', '/api/settings')).statusCode).toBe(200);

      await proxy.stop();
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      const anonymous = await t.app.inject('/api/health/ready');
      expect(anonymous.json()).toEqual({ error: 'database_not_ready', message: 'The database does not answer.' });
      const wrong = await t.app.inject({ url: '/api/health/ready', headers: { authorization: 'Bearer gwa_not-a-token' } });
      expect(wrong.json().detail).toBeUndefined();
      const detailed = await t.app.inject({ url: '/api/health/ready', headers: bearer });
      expect(detailed.statusCode).toBe(503);
      expect(detailed.json()).toEqual({ error: 'database_not_ready', message: 'The database does not answer.', detail: expect.stringContaining(`127.0.0.1:${port}`) });
      expect(t.logs.join('')).toMatch(new RegExp(`Not ready: .*127\\.0\\.0\\.1:${port}`));
    } finally {
      await proxy.stop();
    }
  });
});
