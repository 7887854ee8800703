import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../../../../test/helpers/postgres.ts';

describe('two app instances on one PostgreSQL', () => {
  let db: TestDatabase;
  const apps: TestApp[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((t) => t.close()));
    await db.drop();
  });

  it('adopts a database another replica set up, when its own persistent data has no selection file', async () => {
    db = await createTestDatabase();
    const env = { ...db.env, ENCRYPTION_SECRET: 'shared-replica-encryption-secret-1234' };
    const first = await startApp(env);
    apps.push(first);
    await setUpWithAdmin(first, 'postgresql');

    // No DB_TYPE, no selection file: only the environment points at the database. (No SETUP_TOKEN
    // either: an instance waiting for the wizard would write a generated one to its data folder.)
    const second = await startApp({ ...env, SETUP_TOKEN: '' });
    apps.push(second);
    expect(second.app.setupStatus.snapshot()).toEqual({ configured: true, initialized: true, dialect: 'postgresql', type: 'postgresql', state: 'ready' });
    expect(JSON.parse(readFileSync(join(second.dataDir, 'db.selection.json'), 'utf8'))).toMatchObject({ type: 'postgresql' });
    expect(existsSync(join(second.dataDir, 'setup-token'))).toBe(false);
    expect((await second.setUp('postgresql')).json().error).toBe('already_configured');
    expect(await db.query('select count(*)::int as n from admin_tokens')).toEqual([{ n: 1 }]);
  });

  it('reads a change made on the other within 1 s (LISTEN/NOTIFY), secrets included', async () => {
    db = await createTestDatabase();
    const env = { ...db.env, ENCRYPTION_SECRET: 'shared-replica-encryption-secret-1234' };
    const first = await startApp(env);
    apps.push(first);
    const admin = await setUpWithAdmin(first, 'postgresql');
    const second = await startApp({ ...env, DB_TYPE: 'postgresql' });
    apps.push(second);
    expect(second.app.setupStatus.snapshot().state).toBe('ready');

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

  it('reads a group saved on the other in one transaction: every key of it, once committed', async () => {
    db = await createTestDatabase();
    const env = { ...db.env, ENCRYPTION_SECRET: 'shared-replica-encryption-secret-1234' };
    const first = await startApp(env);
    apps.push(first);
    const admin = await setUpWithAdmin(first, 'postgresql');
    const second = await startApp({ ...env, DB_TYPE: 'postgresql' });
    apps.push(second);

    const saved = await admin.call('PUT', '/api/settings/groups/mail', { values: { 'mail.host': 'smtp.replica.example', 'mail.port': 2525, 'mail.password': 'group-smtp-password' } });
    expect(saved.statusCode).toBe(200);
    const read = () => [second.app.settings.get('mail.host'), second.app.settings.get('mail.port'), second.app.settings.get('mail.password')];
    const started = Date.now();
    while (read()[2] !== 'group-smtp-password' && Date.now() - started < 2_000) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(read()).toEqual(['smtp.replica.example', 2525, 'group-smtp-password']);
  });
});
