import { afterEach, describe, expect, it } from 'vitest';
import { startApp, TEST_SETUP_TOKEN, type TestApp } from '../../../../test/helpers/app.ts';

describe('Host header check (DNS rebinding)', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  const status = (host: string) => t!.app.inject({ url: '/api/db/status', headers: { host } });

  it('on a loopback address, answers only localhost, 127.0.0.1 and [::1], with any port', async () => {
    t = await startApp({ HOST: '127.0.0.1' });
    for (const host of ['localhost', 'localhost:3000', 'LOCALHOST:80', '127.0.0.1:3000', '[::1]:3000', '[::1]']) {
      expect((await status(host)).statusCode, host).toBe(200);
    }
    for (const host of ['attacker.example', 'attacker.example:3000', 'localhost.attacker.example', '127.0.0.2:3000']) {
      const response = await status(host);
      expect(response.statusCode, host).toBe(403);
      expect(response.json()).toEqual({ error: 'host_not_allowed', message: expect.stringContaining('ALLOWED_HOSTS') });
    }
  });

  it('refuses a rebound setup call before it looks at the token', async () => {
    t = await startApp({ HOST: '127.0.0.1' });
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/db/setup',
      headers: { host: 'attacker.example:3000', 'x-setup-token': TEST_SETUP_TOKEN },
      payload: { type: 'pglite' },
    });
    expect(response.statusCode).toBe(403);
    expect(response.json().error).toBe('host_not_allowed');
    expect(t.app.setupStatus.snapshot().state).toBe('unconfigured');
  });

  it('with ALLOWED_HOSTS, answers only those names and the loopback names', async () => {
    t = await startApp({ HOST: '0.0.0.0', ALLOWED_HOSTS: 'app.example.com,10.0.0.5' });
    expect((await status('app.example.com')).statusCode).toBe(200);
    expect((await status('App.Example.com:443')).statusCode).toBe(200);
    expect((await status('10.0.0.5:3000')).statusCode).toBe(200);
    expect((await status('127.0.0.1:3000')).statusCode).toBe(200);
    expect((await status('attacker.example')).statusCode).toBe(403);
    expect((await status('app.example.com.attacker.example')).statusCode).toBe(403);
  });

  it('on all interfaces without ALLOWED_HOSTS, answers any host and warns at boot', async () => {
    t = await startApp({ HOST: '0.0.0.0' });
    expect((await status('anything.example:3000')).statusCode).toBe(200);
    expect(t.logs.some((line) => line.includes('"level":40') && line.includes('set ALLOWED_HOSTS'))).toBe(true);
  });
});
