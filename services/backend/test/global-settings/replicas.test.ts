import { afterEach, describe, expect, it } from 'vitest';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../../../../test/helpers/postgres.ts';

describe('two app instances on one PostgreSQL', () => {
  let db: TestDatabase;
  const apps: TestApp[] = [];
  afterEach(async () => {
    await Promise.all(apps.map((t) => t.close()));
    await db.drop();
  });

  it('reads a change made on the other within 1 s (LISTEN/NOTIFY), secrets included', async () => {
    db = await createTestDatabase();
    const env = { ...db.env, ENCRYPTION_SECRET: 'shared-replica-encryption-secret-1234' };
    const first = await startApp(env);
    apps.push(first);
    const admin = await setUpWithAdmin(first, 'postgresql');
    const second = await startApp({ ...env, DB_TYPE: 'postgresql' });
    apps.push(second);
    expect(second.app.setup.snapshot().state).toBe('ready');

    const waitFor = async (read: () => unknown, expected: unknown) => {
      const started = Date.now();
      while (read() !== expected && Date.now() - started < 1_000) await new Promise((resolve) => setTimeout(resolve, 10));
      return { value: read(), ms: Date.now() - started };
    };

    await admin.call('PUT', '/api/settings/general.instance_name', { value: 'Changed on the first' });
    const seen = await waitFor(() => second.app.settings.get('general.instance_name'), 'Changed on the first');
    expect(seen.value).toBe('Changed on the first');
    expect(seen.ms).toBeLessThan(1_000);

    await admin.call('PUT', '/api/settings/mail.password', { value: 'rotated-smtp-password' });
    expect((await waitFor(() => second.app.settings.get('mail.password'), 'rotated-smtp-password')).value).toBe('rotated-smtp-password');

    await admin.call('PUT', '/api/settings/general.instance_name', { value: null });
    expect((await waitFor(() => second.app.settings.get('general.instance_name'), 'Groundwork')).value).toBe('Groundwork');
  });
});
