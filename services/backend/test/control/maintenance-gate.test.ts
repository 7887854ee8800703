import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';

describe('maintenance: writes in flight and writes refused', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startApp();
  });
  afterEach(async () => {
    await t.close();
  });

  it('waits for a write admitted before maintenance began, refuses new writes with Retry-After, serves reads', async () => {
    const admin = await setUpWithAdmin(t, 'pglite');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as { port: number };

    // A write whose body is still arriving: admitted (the guard runs on its headers), not finished.
    const body = JSON.stringify({ title: 'in flight' });
    const slow = request({ host: '127.0.0.1', port, path: '/api/plugins/notes/', method: 'POST', headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
    const answered = new Promise<number>((resolve, reject) => slow.once('response', (response) => (response.resume(), resolve(response.statusCode!))).once('error', reject));
    slow.write(body.slice(0, 5));
    await new Promise((resolve) => setTimeout(resolve, 300));

    t.app.setupStatus.beginMaintenance('postgresql');
    let drained = false;
    const draining = t.app.writesInFlight.drained().then(() => (drained = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(drained).toBe(false);

    const refused = await admin.call('PUT', '/api/settings/mail.port', { value: 2626 });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('30');
    expect(refused.json()).toEqual({ error: 'maintenance', message: expect.stringMatching(/reads work, writes are refused/) });
    expect((await admin.call('GET', '/api/plugins/notes/')).statusCode).toBe(200);
    expect(t.app.setupStatus.snapshot()).toMatchObject({ state: 'maintenance', initialized: true, maintenance: { operation: 'move', target: 'postgresql', stage: 'preparing' } });

    slow.end(body.slice(5));
    expect(await answered).toBe(201);
    await draining;
    expect(drained).toBe(true);

    t.app.setupStatus.endMaintenance({ type: 'pglite' });
    expect((await admin.call('PUT', '/api/settings/mail.port', { value: 2626 })).statusCode).toBe(200);
  });
});
