import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppDatabase } from '../../src/db/index.ts';
import { globalSettings, settingGroups } from '../../src/db/schema/index.ts';
import { resolveSettings, type SettingsGroupDefinition } from '../../src/global-settings/define.ts';
import { thousandSettings } from '../../../../test/support/generated-settings.ts';
import { CORE_SETTINGS_GROUPS } from '../../src/global-settings/index.ts';
import { seedSettings } from '../../src/global-settings/seed.ts';
import * as schema from '../../src/db/schema/index.ts';
import { setUpWithAdmin } from '../../../../test/helpers/admin.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../../../../test/helpers/postgres.ts';
import { tempDir } from '../../../../test/helpers/temp.ts';

const dump = async (db: AppDatabase) => ({
  groups: await db.select().from(settingGroups).orderBy(settingGroups.id),
  settings: await db.select().from(globalSettings).orderBy(globalSettings.key),
});

describe.each(['pglite', 'postgresql'] as const)('seeding global settings on %s', (type) => {
  let folder: ReturnType<typeof tempDir>;
  let db: TestDatabase | null = null;
  let t: TestApp | undefined;
  const boot = () => startApp({ ...db?.env, ENCRYPTION_SECRET: 'a-test-encryption-secret-of-32-chars!' }, { dataDir: folder.path });

  beforeEach(async () => {
    folder = tempDir();
    db = type === 'postgresql' ? await createTestDatabase() : null;
  });
  afterEach(async () => {
    await t?.close();
    await db?.drop();
    folder.remove();
  });

  it('keeps an operator value across a reboot, and a second seeding changes nothing at all', async () => {
    t = await boot();
    const admin = await setUpWithAdmin(t, type);
    await admin.call('PUT', '/api/settings/general.instance_name', { value: 'Acme Ops' });
    await admin.call('PUT', '/api/settings/mail.password', { value: 'smtp-secret-value' });
    const before = await dump(t.app.activeDatabase.db);
    // Core settings and the example plugins' settings.
    expect(before.settings).toHaveLength(t.app.settings.definitions.size);
    expect(t.app.settings.definitions.size).toBeGreaterThan(resolveSettings(CORE_SETTINGS_GROUPS).size);
    await t.app.close();

    t = await boot();
    expect(t.app.setupStatus.snapshot().state).toBe('ready');
    expect(t.app.settings.get('general.instance_name')).toBe('Acme Ops');
    expect(t.app.settings.get('mail.password')).toBe('smtp-secret-value');
    // Not a single row rewritten: same values, same updated_at.
    expect(await dump(t.app.activeDatabase.db)).toEqual(before);
  });

  it('lets names, descriptions and groups follow the code, keeps values, and reports (keeps) removed definitions', async () => {
    t = await boot();
    const admin = await setUpWithAdmin(t, type);
    await admin.call('PUT', '/api/settings/mail.host', { value: 'smtp.example.com' });
    const database = t.app.activeDatabase.db;
    await database.insert(globalSettings).values({ key: 'general.retired', groupId: 'general', name: 'Old', description: 'Gone from code', type: 'string', isEncrypted: false, value: 'kept' });

    const changed: SettingsGroupDefinition[] = CORE_SETTINGS_GROUPS.map((group) =>
      group.id === 'mail'
        ? { ...group, name: 'Outgoing mail', settings: { ...group.settings, host: { ...group.settings.host, description: 'New words' } } }
        : group,
    );
    await seedSettings(database, changed, resolveSettings(changed).values());
    const after = await dump(database);
    expect(after.groups.find((group) => group.id === 'mail')?.name).toBe('Outgoing mail');
    expect(after.settings.find((row) => row.key === 'mail.host')).toMatchObject({ description: 'New words', value: 'smtp.example.com' });
    await t.app.close();

    t = await boot();
    expect(t.app.setupStatus.snapshot().state).toBe('ready');
    expect(t.logs.join('')).toMatch(/no code declares any more \(kept, not deleted\): general\.retired/);
    expect((await dump(t.app.activeDatabase.db)).settings.find((row) => row.key === 'general.retired')?.value).toBe('kept');
  });
});

describe('seeding 1,000 definitions', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(() => db.drop());

  it('costs one statement per table, and none that rewrites a row the second time', async () => {
    const { MIGRATIONS_DIR } = await import('../../src/paths.ts');
    const { migrate } = await import('drizzle-orm/node-postgres/migrator');
    const pool = new pg.Pool({ connectionString: db.url });
    const statements: string[] = [];
    try {
      const database = drizzle({ client: pool, schema, logger: { logQuery: (query) => statements.push(query) } });
      await migrate(database, { migrationsFolder: MIGRATIONS_DIR });
      const { groups, settings } = thousandSettings();
      statements.length = 0;
      await seedSettings(database, groups, settings);
      expect(statements).toHaveLength(2);
      expect(await db.query('select count(*)::int as n from global_settings')).toEqual([{ n: 1000 }]);

      const stamps = await db.query('select max(updated_at) as at from global_settings');
      await seedSettings(database, groups, settings);
      expect(await db.query('select max(updated_at) as at from global_settings')).toEqual(stamps);
    } finally {
      await pool.end();
    }
  });
});
