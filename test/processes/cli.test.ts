import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { settingsEncryption } from '../../services/backend/src/db/schema/index.ts';
import { SettingsCipher } from '../../services/backend/src/global-settings/crypto.ts';
import { rotateEncryptionKey } from '../../services/backend/src/global-settings/rotate.ts';
import { MIGRATIONS_DIR } from '../../services/backend/src/paths.ts';
import { withClient } from '../support/databases.ts';
import { MIGRATION_TAGS } from '../helpers/migrations.ts';
import { runCli } from '../helpers/cli.ts';
import { setUpWithAdmin } from '../helpers/admin.ts';
import { startApp } from '../helpers/app.ts';
import { createTestDatabase, TABLES_SQL, type TestDatabase } from '../helpers/postgres.ts';
import { pluginsFolder, shopPlugin } from '../helpers/plugins.ts';
import { tempDir } from '../helpers/temp.ts';


/** This release's migrations plus one more, `tag`, placed right after the migration `after`. */
function migrationsWith({ tag, after, sql }: { tag: string; after: string; sql: string }): ReturnType<typeof tempDir> {
  const folder = tempDir('groundwork-migrations-');
  cpSync(MIGRATIONS_DIR, folder.path, { recursive: true });
  const journalPath = join(folder.path, 'meta/_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { idx: number; when: number; tag: string }[] };
  const at = journal.entries.findIndex((entry) => entry.tag === after);
  const previous = journal.entries[at]!;
  const next = journal.entries[at + 1];
  // Drizzle orders by `when`: between its neighbours, or a minute after the last.
  const when = next ? Math.floor((previous.when + next.when) / 2) : previous.when + 60_000;
  journal.entries.splice(at + 1, 0, { ...previous, when, tag });
  journal.entries.forEach((entry, index) => (entry.idx = index));
  writeFileSync(journalPath, JSON.stringify(journal));
  writeFileSync(join(folder.path, `${tag}.sql`), `${sql}\n`);
  return folder;
}

/** Drizzle's applied migrations and the columns of global_settings: what a refused db:migrate must leave as it was. */
async function historyOf(db: TestDatabase) {
  return {
    migrations: await db.query('select id, hash, created_at from drizzle.__drizzle_migrations order by id'),
    columns: await db.query("select column_name from information_schema.columns where table_name = 'global_settings' order by 1"),
  };
}

describe('operator commands on a set-up instance (servers stopped)', () => {
  let db: TestDatabase;
  let folder: ReturnType<typeof tempDir>;
  let env: Record<string, string>;
  beforeEach(async () => {
    db = await createTestDatabase();
    folder = tempDir();
    env = { ...db.env, PERSISTENT_DATA_DIR: folder.path };
  });
  afterEach(async () => {
    await db.drop();
    folder.remove();
  });

  it('admin:token issues a new token and revokes the old one; settings:rotate-key moves secrets to a new key file', async () => {
    let t = await startApp(env, { dataDir: folder.path });
    const admin = await setUpWithAdmin(t, 'postgresql');
    await admin.call('PUT', '/api/settings/mail.password', { value: 'before-rotation' });
    const oldKey = readFileSync(join(folder.path, 'encryption.key'), 'utf8');

    // Refused while a server still uses the database.
    const busy = await runCli('rotate-key.ts', env);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/Stop every server first/);
    await t.close();

    const issued = await runCli('admin-token.ts', env);
    expect(issued.code).toBe(0);
    const newToken = issued.stdout.trim();
    expect(newToken).toMatch(/^gwa_/);
    expect(issued.stderr).not.toContain(newToken);

    const rotated = await runCli('rotate-key.ts', env);
    expect(rotated).toMatchObject({ code: 0, stdout: expect.stringMatching(/Re-encrypted 1 secret setting/) });
    expect(readFileSync(join(folder.path, 'encryption.key'), 'utf8')).not.toBe(oldKey);

    t = await startApp(env, { dataDir: folder.path });
    try {
      expect(t.app.setupStatus.snapshot().state).toBe('ready');
      expect(t.app.settings.get('mail.password')).toBe('before-rotation');
      const withOld = await t.app.inject({ url: '/api/settings', headers: { authorization: `Bearer ${admin.token}` } });
      expect(withOld.statusCode).toBe(401);
      const withNew = await t.app.inject({ url: '/api/settings', headers: { authorization: `Bearer ${newToken}` } });
      expect(withNew.statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('settings:rotate-key moves an instance keyed before salts to a salted key, keeping its ENCRYPTION_SECRET', async () => {
    const secret = 'cli-rotation-encryption-secret-0123456789';
    const withSecret = { ...env, ENCRYPTION_SECRET: secret };
    let t = await startApp(withSecret, { dataDir: folder.path });
    const admin = await setUpWithAdmin(t, 'postgresql');
    await admin.call('PUT', '/api/settings/mail.password', { value: 'kept-across-rotation' });
    // What an older version left: the fixed-salt key and no salt recorded.
    const database = t.app.activeDatabase.db;
    const [before] = await database.select().from(settingsEncryption);
    await rotateEncryptionKey(database, await SettingsCipher.fromSecret(secret, before!.kdfSalt), await SettingsCipher.fromSecret(secret, null));
    await t.close();

    const rotated = await runCli('rotate-key.ts', { ...withSecret, NEW_ENCRYPTION_SECRET: secret });
    expect(rotated).toMatchObject({ code: 0, stdout: expect.stringMatching(/Re-encrypted 1 secret setting/) });
    expect(await db.query('select key_id, kdf_salt from settings_encryption')).toEqual([{ key_id: expect.stringMatching(/^[0-9a-f]{16}$/), kdf_salt: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) }]);

    t = await startApp(withSecret, { dataDir: folder.path });
    try {
      expect(t.app.setupStatus.snapshot().state).toBe('ready');
      expect(t.app.settings.get('mail.password')).toBe('kept-across-rotation');
      expect(t.logs.join('')).not.toMatch(/fixed salt/);
    } finally {
      await t.close();
    }
  });

  it('plugins:accept-schema records a change made by hand, so the next boot runs no DDL for it', async () => {
    const v1 = pluginsFolder({ shop: shopPlugin(1) });
    const v3 = pluginsFolder({ shop: shopPlugin(3) });
    try {
      let t = await startApp({ ...env, PLUGINS_DIR: v1.path }, { dataDir: folder.path });
      const admin = await setUpWithAdmin(t, 'postgresql');
      await t.close();

      // The operator drops the column by hand, changes the code, and records it.
      await db.query('alter table shop_orders drop column sku');
      const accepted = await runCli('accept-plugin-schema.ts', { ...env, PLUGINS_DIR: v3.path }, ['shop']);
      expect(accepted.stderr).toBe('');
      expect(accepted).toMatchObject({ code: 0, stdout: expect.stringContaining('Recorded the current tables of plugin shop') });

      t = await startApp({ ...env, PLUGINS_DIR: v3.path }, { dataDir: folder.path });
      try {
        const plugins = (await t.app.inject({ url: '/api/plugins', headers: { authorization: `Bearer ${admin.token}` } })).json().plugins;
        expect(plugins).toEqual([expect.objectContaining({ id: 'shop', status: 'active', ddl_statements: 0 })]);
      } finally {
        await t.close();
      }
      expect((await runCli('accept-plugin-schema.ts', { ...env, PLUGINS_DIR: v3.path }, ['nope'])).stderr).toMatch(/No plugin "nope" in PLUGINS_DIR \(found: shop\)/);
    } finally {
      v1.remove();
      v3.remove();
    }
  });

  it('settings:rotate-key with NEW_ENCRYPTION_SECRET moves secrets to the new secret; the old one is then refused', async () => {
    const oldSecret = 'the-old-encryption-secret-0123456789';
    const newSecret = 'the-new-encryption-secret-9876543210';
    let t = await startApp({ ...env, ENCRYPTION_SECRET: oldSecret }, { dataDir: folder.path });
    const admin = await setUpWithAdmin(t, 'postgresql');
    await admin.call('PUT', '/api/settings/mail.password', { value: 'smtp-before-rotation' });
    await t.close();

    const withoutNew = await runCli('rotate-key.ts', { ...env, ENCRYPTION_SECRET: oldSecret });
    expect(withoutNew).toMatchObject({ code: 1, stderr: expect.stringMatching(/set NEW_ENCRYPTION_SECRET/) });

    const rotated = await runCli('rotate-key.ts', { ...env, ENCRYPTION_SECRET: oldSecret, NEW_ENCRYPTION_SECRET: newSecret });
    expect(rotated).toMatchObject({ code: 0, stdout: expect.stringMatching(/Re-encrypted 1 secret setting.*\n.*set ENCRYPTION_SECRET to the new secret/) });
    for (const output of [rotated.stdout, rotated.stderr]) {
      expect(output).not.toContain(oldSecret);
      expect(output).not.toContain(newSecret);
    }

    t = await startApp({ ...env, ENCRYPTION_SECRET: oldSecret }, { dataDir: folder.path });
    try {
      expect(t.app.setupStatus.snapshot(true)).toMatchObject({ state: 'error', detail: expect.stringMatching(/encryption key does not match this database/) });
    } finally {
      await t.close();
    }
    t = await startApp({ ...env, ENCRYPTION_SECRET: newSecret }, { dataDir: folder.path });
    try {
      expect(t.app.setupStatus.snapshot().state).toBe('ready');
      expect(t.app.settings.get('mail.password')).toBe('smtp-before-rotation');
    } finally {
      await t.close();
    }
  });

  it('db:migrate applies a pending migration that GET /api/db/migrations listed as pending', async () => {
    // The database one migration behind this release: everything but the newest migration applied.
    const older = tempDir('groundwork-migrations-');
    cpSync(MIGRATIONS_DIR, older.path, { recursive: true });
    const journalPath = join(older.path, 'meta/_journal.json');
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
    const newest = journal.entries.pop()!.tag;
    rmSync(join(older.path, `${newest}.sql`));
    writeFileSync(journalPath, JSON.stringify(journal));

    const t = await startApp(env, { dataDir: folder.path });
    try {
      await setUpWithAdmin(t, 'postgresql');
      await db.query('drop schema drizzle cascade; drop schema public cascade; create schema public');
      await withClient(db.url, (client) => migrate(drizzle({ client }), { migrationsFolder: older.path }));
      const before = await t.app.inject('/api/db/migrations');
      expect(before.json()).toEqual({ applied: MIGRATION_TAGS.slice(0, -1), pending: [newest], unknown: [], schema: 'current' });
    } finally {
      await t.close();
      older.remove();
    }

    const migrated = await runCli('migrate.ts', env);
    expect(migrated).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`Applied 1 migration\\(s\\) to the postgresql database at .*: ${newest}\\.`)) });
    expect(await db.query('select count(*)::int as n from drizzle.__drizzle_migrations')).toEqual([{ n: MIGRATION_TAGS.length }]);

    const after = await startApp(env, { dataDir: folder.path });
    try {
      expect((await after.app.inject('/api/db/migrations')).json()).toEqual({ applied: MIGRATION_TAGS, pending: [], unknown: [], schema: 'current' });
    } finally {
      await after.close();
    }
  });

  it('db:migrate refuses a database ahead of this release, naming the newer migration, and changes nothing', async () => {
    const next = migrationsWith({ tag: '0099_cli_newer_release', after: MIGRATION_TAGS.at(-1)!, sql: 'ALTER TABLE "global_settings" ADD COLUMN "newer_note" text;' });
    try {
      const withEnv = { ...env, DB_TYPE: 'postgresql' };
      expect(await runCli('migrate.ts', { ...withEnv, GROUNDWORK_MIGRATIONS_DIR: next.path })).toMatchObject({ code: 0, stdout: expect.stringContaining(`Applied ${MIGRATION_TAGS.length + 1} migration(s)`) });
      const before = await historyOf(db);

      const refused = await runCli('migrate.ts', withEnv);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/Refused: the postgresql database at .* is ahead of this release: a newer release applied unknown \(generated [^)]*, hash [0-9a-f]{12}\)/);
      expect(refused.stderr).toContain('Nothing was changed');
      expect(await historyOf(db)).toEqual(before);
    } finally {
      next.remove();
    }
  });

  it('db:migrate refuses a diverged history (a migration the code ships before one the database has), naming both, and changes nothing', async () => {
    const withEnv = { ...env, DB_TYPE: 'postgresql' };
    expect(await runCli('migrate.ts', withEnv)).toMatchObject({ code: 0, stdout: expect.stringContaining(`Applied ${MIGRATION_TAGS.length} migration(s)`) });
    expect(await runCli('migrate.ts', withEnv)).toMatchObject({ code: 0, stdout: expect.stringContaining('No pending migrations') });
    const before = await historyOf(db);

    // A release with one more migration slotted in before the newest one the database has.
    const diverged = migrationsWith({ tag: '0098_cli_slotted_in', after: MIGRATION_TAGS.at(-2)!, sql: 'ALTER TABLE "global_settings" ADD COLUMN "slotted_note" text;' });
    try {
      const refused = await runCli('migrate.ts', { ...withEnv, GROUNDWORK_MIGRATIONS_DIR: diverged.path });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`Refused: The database has not applied 0098_cli_slotted_in, which this release ships before ${MIGRATION_TAGS.at(-1)}, yet it has applied ${MIGRATION_TAGS.at(-1)}`);
      expect(refused.stderr).toContain('Nothing was changed');
      expect(await historyOf(db)).toEqual(before);
    } finally {
      diverged.remove();
    }
  });

  it('db:restore refuses a backup whose history diverged from the code, before touching the target', async () => {
    // Only the header matters: the check comes before anything is read from the body or written.
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as { entries: { tag: string; when: number }[] };
    const skipped = journal.entries.at(-2)!;
    const manifest = {
      format: 1,
      appVersion: '0.1.0',
      databaseType: 'postgresql',
      createdAt: new Date().toISOString(),
      migrations: journal.entries.filter((entry) => entry !== skipped).map((entry) => ({ tag: entry.tag, createdAt: entry.when })),
      plugins: [],
      encryption: null,
    };
    const file = join(folder.path, 'diverged.sql');
    writeFileSync(file, `-- Groundwork-Manifest: ${JSON.stringify(manifest)}\nselect 1;\n`);

    const instance = join(folder.path, 'instance');
    mkdirSync(instance, { mode: 0o700 });
    const refused = await runCli('restore.ts', { ...env, PERSISTENT_DATA_DIR: instance }, [file, '--to', 'postgresql']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`The backup has not applied ${skipped.tag}, which this release ships before ${journal.entries.at(-1)!.tag}, yet it has applied ${journal.entries.at(-1)!.tag} and the migrations after it`);
    expect(await db.query(TABLES_SQL, ['public'])).toEqual([]);
    expect(existsSync(join(instance, 'db.selection.json'))).toBe(false);
  });

  it('db:migrate says what to do when the instance is not set up', async () => {
    const result = await runCli('migrate.ts', { PERSISTENT_DATA_DIR: folder.path });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/has no db.selection.json and DB_TYPE is not set/);
  });
});
