import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJournal } from '../../services/backend/src/db/migrations.ts';
import { runCli } from '../helpers/cli.ts';
import { setUpWithAdmin } from '../helpers/admin.ts';
import { startApp } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { spawnServer } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/temp.ts';
import { createDatabase, type ScratchDatabase } from '../support/databases.ts';
import { startSystemPostgres, type SystemPostgres } from '../support/system-postgres.ts';


type Query = (text: string) => Promise<Record<string, unknown>[]>;

/** Every table's rows (as JSON text, in one fixed order) and every sequence's position: what must survive a round trip. */
async function contentsOf(query: Query): Promise<Record<string, string[]>> {
  await query("set timezone = 'UTC'");
  const contents: Record<string, string[]> = {};
  const tables = await query(
    "select format('%I.%I', table_schema, table_name) as name from information_schema.tables where table_schema in ('public', 'drizzle') and table_type = 'BASE TABLE' order by 1",
  );
  for (const { name } of tables) {
    contents[name as string] = (await query(`select row_to_json(t)::text as row from ${name as string} t order by row_to_json(t)::text collate "C"`)).map((row) => row.row as string);
  }
  contents.sequences = (await query("select format('%I.%I = %s', schemaname, sequencename, last_value) as seq from pg_sequences order by 1")).map((row) => row.seq as string);
  return contents;
}

async function contentsOfPostgres(url: string): Promise<Record<string, string[]>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await contentsOf(async (text) => (await client.query(text)).rows);
  } finally {
    await client.end();
  }
}

async function contentsOfPglite(dataDir: string): Promise<Record<string, string[]>> {
  const client = await PGlite.create(dataDir);
  try {
    return await contentsOf(async (text) => (await client.query<Record<string, unknown>>(text)).rows);
  } finally {
    await client.close();
  }
}

const run = promisify(execFile);

async function psqlRestore(psql: string, url: string, file: string): Promise<void> {
  await run(psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', file]);
}

// Strings that trip up a naive SQL splitter or encoder: quotes, semicolons, comment and dollar-quote
// look-alikes, a psql meta-command at the start of a line, a carriage return, backslashes, non-ASCII.
const TRICKY_BODY = "it's; -- not a comment\n$$ $x$ /* */ \r\n back\\slash E'x' ✓ 😀\n\\restrict not-a-command";
// PGlite's pg_dump drops such lines (see src/db/backup/backup.ts): its instance gets the rest.
const TRICKY_BODY_FOR_PGLITE = TRICKY_BODY.replace(/\n\\restrict.*$/, '');

describe('db:backup and db:restore with the server stopped', () => {
  const source = tempDir();
  let backupFile: string;
  let pglite: { token: string; contents: Record<string, string[]> };
  let pg15: SystemPostgres;
  const scratch: ScratchDatabase[] = [];
  const folders: ReturnType<typeof tempDir>[] = [source];

  beforeAll(async () => {
    pg15 = await startSystemPostgres();
    // A PGlite instance with plugin rows, an encrypted setting and an admin token.
    const t = await startApp({}, { dataDir: source.path });
    try {
      const admin = await setUpWithAdmin(t, 'pglite');
      expect((await admin.call('PUT', '/api/settings/mail.password', { value: 'smtp-secret' })).statusCode).toBe(200);
      expect((await admin.call('PUT', '/api/settings/general.instance_name', { value: 'Backed up' })).statusCode).toBe(200);
      expect((await admin.call('POST', '/api/plugins/notes/', { title: 'first', body: TRICKY_BODY_FOR_PGLITE })).statusCode).toBe(201);
      expect((await admin.call('POST', '/api/plugins/notes/', { title: 'second' })).statusCode).toBe(201);
      pglite = { token: admin.token, contents: {} };
    } finally {
      await t.close();
    }
    backupFile = join(source.path, 'backup.sql');
    const backedUp = await runCli('backup.ts', { PERSISTENT_DATA_DIR: source.path }, ['--out', backupFile]);
    expect(backedUp.stderr).toBe('');
    expect(backedUp).toMatchObject({ code: 0, stdout: expect.stringContaining(`to ${backupFile}`) });
    pglite.contents = await contentsOfPglite(join(source.path, 'pglite'));
  });

  afterAll(async () => {
    await Promise.all(scratch.map((database) => database.drop().catch(() => {})));
    await pg15?.stop();
    for (const folder of folders) folder.remove();
  });

  /** A new empty database on the system PostgreSQL 15. */
  async function pg15Database(): Promise<ScratchDatabase> {
    const database = await createDatabase(pg15.url);
    scratch.push(database);
    return database;
  }

  async function pg17Database(): Promise<TestDatabase> {
    const database = await createTestDatabase();
    scratch.push(database);
    return database;
  }

  it('writes plain SQL, mode 0600, with a header naming version, migrations, plugins and key', () => {
    expect(statSync(backupFile).mode & 0o777).toBe(0o600);
    const text = readFileSync(backupFile, 'utf8');
    const header = text.slice(0, text.indexOf('\n\n'));
    expect(header).toMatch(/^-- Groundwork backup/);
    expect(header).toMatch(/^-- App version: 0\.1\.0$/m);
    expect(header).toMatch(/^-- Database type: pglite$/m);
    expect(header).toContain(`-- Migrations applied: ${readJournal().map((entry) => entry.tag).join(', ')}\n`);
    expect(header).toMatch(/^-- Plugins: audit_log 1\.0\.0, notes 1\.0\.0$/m);
    const keyId = pglite.contents['public.settings_encryption']![0]!.match(/"key_id":"([0-9a-f]+)"/)![1]!;
    expect(header).toContain(`-- Encryption key id: ${keyId}`);
    // Ciphertext only: the plain secret and the admin token are not in the file, the token's hash is.
    expect(text).toContain(`gw1.${keyId}.`);
    expect(text).not.toContain('smtp-secret');
    expect(text).not.toContain(pglite.token);
    // PostgreSQL 15 and 16 reject this setting of pg_dump 17+.
    expect(text).not.toMatch(/transaction_timeout/);
  });

  it('restores with psql into empty PostgreSQL 15 and 17 databases, table by table identical', async () => {
    expect(Object.keys(pglite.contents)).toEqual(
      expect.arrayContaining(['drizzle.__drizzle_migrations', 'public.admin_tokens', 'public.global_settings', 'public.notes_notes', 'public.plugin_schemas', 'public.settings_encryption']),
    );
    expect(pglite.contents['public.notes_notes']!.some((row) => row.includes('\\r\\n back'))).toBe(true);
    for (const database of [await pg15Database(), await pg17Database()]) {
      await psqlRestore(join(pg15.bindir, 'psql'), database.url, backupFile);
      expect(await contentsOfPostgres(database.url)).toEqual(pglite.contents);
    }
  });

  it('backs up an instance on a PostgreSQL 15 server with pg_dump; psql and db:restore both restore it', async () => {
    const database = await pg15Database();
    const folder = tempDir();
    folders.push(folder);
    const t = await startApp(database.env, { dataDir: folder.path });
    try {
      const admin = await setUpWithAdmin(t, 'postgresql');
      await admin.call('PUT', '/api/settings/mail.password', { value: 'pg-secret' });
      await admin.call('POST', '/api/plugins/notes/', { title: 'on postgres', body: TRICKY_BODY });
    } finally {
      await t.close();
    }
    const file = join(folder.path, 'pg.sql');
    const backedUp = await runCli('backup.ts', { ...database.env, PERSISTENT_DATA_DIR: folder.path }, ['--out', file]);
    expect(backedUp).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(file, 'utf8')).toMatch(/^-- Database type: postgresql$/m);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const expected = await contentsOfPostgres(database.url);

    const viaPsql = await pg15Database();
    await psqlRestore(join(pg15.bindir, 'psql'), viaPsql.url, file);
    expect(await contentsOfPostgres(viaPsql.url)).toEqual(expected);

    // pg_dump 15 writes psql meta-commands (\restrict): db:restore skips them.
    const target = await pg17Database();
    const restoredFolder = tempDir();
    folders.push(restoredFolder);
    copyFileSync(join(folder.path, 'encryption.key'), join(restoredFolder.path, 'encryption.key'));
    const restored = await runCli('restore.ts', { ...target.env, PERSISTENT_DATA_DIR: restoredFolder.path }, [file, '--to', 'postgresql']);
    expect(restored).toMatchObject({ code: 0, stderr: '' });
    expect(await contentsOfPostgres(target.url)).toEqual(expected);
  });

  it('db:restore into PGlite: the real server starts on it, with the admin token, plugin rows and secrets', async () => {
    const folder = tempDir();
    folders.push(folder);
    copyFileSync(join(source.path, 'encryption.key'), join(folder.path, 'encryption.key'));
    const restored = await runCli('restore.ts', { PERSISTENT_DATA_DIR: folder.path }, [backupFile, '--to', 'pglite']);
    expect(restored).toMatchObject({ code: 0, stderr: '', stdout: expect.stringContaining('Restored') });
    expect(JSON.parse(readFileSync(join(folder.path, 'db.selection.json'), 'utf8'))).toMatchObject({ type: 'pglite' });
    expect(await contentsOfPglite(join(folder.path, 'pglite'))).toEqual(pglite.contents);

    const server = await spawnServer({ PERSISTENT_DATA_DIR: folder.path });
    try {
      await server.waitForStatus((status) => status.state === 'ready');
      const notes = await fetch(`${server.url}/api/plugins/notes/`, { headers: { authorization: `Bearer ${pglite.token}` } });
      expect(notes.status).toBe(200);
      expect(((await notes.json()) as { title: string; body: string }[]).find((note) => note.title === 'first')?.body).toBe(TRICKY_BODY_FOR_PGLITE);
      // Every encrypted setting decrypted at boot (one that did not would be logged and ignored).
      expect(server.logs.join('\n')).not.toMatch(/Ignoring the stored value/);
    } finally {
      await server.stop();
    }
  });

  describe('into PostgreSQL', () => {
    let target: TestDatabase;
    const folder = tempDir();
    folders.push(folder);

    it('db:restore sets up the instance; the app starts on it with the same token, secrets and sequences', async () => {
      target = await pg17Database();
      copyFileSync(join(source.path, 'encryption.key'), join(folder.path, 'encryption.key'));
      const restored = await runCli('restore.ts', { ...target.env, PERSISTENT_DATA_DIR: folder.path, DB_TYPE: 'postgresql' }, [backupFile]);
      expect(restored).toMatchObject({ code: 0, stderr: '' });
      expect(await contentsOfPostgres(target.url)).toEqual(pglite.contents);

      const t = await startApp(target.env, { dataDir: folder.path });
      try {
        expect(t.app.setupStatus.snapshot()).toMatchObject({ state: 'ready', type: 'postgresql' });
        expect(t.app.settings.get('mail.password')).toBe('smtp-secret');
        expect(t.app.settings.get('general.instance_name')).toBe('Backed up');
        const headers = { authorization: `Bearer ${pglite.token}` };
        const created = await t.app.inject({ method: 'POST', url: '/api/plugins/notes/', headers, payload: { title: 'third' } });
        expect(created.statusCode).toBe(201);
        expect(created.json().id).toBe(3);
      } finally {
        await t.close();
      }
    });

    it('db:backup of a PostgreSQL 17 server says which pg_dump to install when it is missing or older', async () => {
      const env = { ...target.env, PERSISTENT_DATA_DIR: folder.path };
      const out = join(folder.path, 'never.sql');
      const missing = await runCli('backup.ts', { ...env, PG_DUMP_PATH: join(folder.path, 'no-pg_dump') }, ['--out', out]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/needs pg_dump, and there is none at PG_DUMP_PATH/);
      expect(missing.stderr).toContain('apt-get install postgresql-client-17');

      const older = await runCli('backup.ts', { ...env, PG_DUMP_PATH: join(pg15.bindir, 'pg_dump') }, ['--out', out]);
      expect(older.code).toBe(1);
      expect(older.stderr).toMatch(/is version 15, older than the PostgreSQL server \(17\)/);
      expect(older.stderr).toContain('apt-get install postgresql-client-17');
      expect(older.stderr).not.toContain(target.env.POSTGRES_PASSWORD!);
      expect(existsSync(out)).toBe(false);
    });
  });

  it('refuses a target that is not empty, naming what is there, and changes nothing', async () => {
    const target = await pg17Database();
    await target.query('create table leftover (id int)');
    const folder = tempDir();
    folders.push(folder);
    copyFileSync(join(source.path, 'encryption.key'), join(folder.path, 'encryption.key'));
    const refused = await runCli('restore.ts', { ...target.env, PERSISTENT_DATA_DIR: folder.path }, [backupFile, '--to', 'postgresql']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is not empty \(public\.leftover\)/);
    expect(await target.query("select table_name from information_schema.tables where table_schema = 'public'")).toEqual([{ table_name: 'leftover' }]);
    expect(existsSync(join(folder.path, 'db.selection.json'))).toBe(false);
  });

  it('refuses a key that is not the backup\'s, before creating anything', async () => {
    const folder = tempDir();
    folders.push(folder);
    writeFileSync(join(folder.path, 'encryption.key'), `${Buffer.alloc(32, 7).toString('base64')}\n`, { mode: 0o600 });
    const refused = await runCli('restore.ts', { PERSISTENT_DATA_DIR: folder.path }, [backupFile, '--to', 'pglite']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cannot be read with this instance's key.*encrypted with key [0-9a-f]{16}, the configured key is [0-9a-f]{16}/);
    expect(existsSync(join(folder.path, 'pglite'))).toBe(false);
    expect(existsSync(join(folder.path, 'db.selection.json'))).toBe(false);
  });

  it('refuses a backup with migrations this version does not know, naming both', async () => {
    const folder = tempDir();
    folders.push(folder);
    const newer = join(folder.path, 'newer.sql');
    writeFileSync(newer, readFileSync(backupFile, 'utf8').replace('"migrations":[', '"migrations":[{"tag":"0099_from_the_future","createdAt":4102444800000},'));
    const refused = await runCli('restore.ts', { PERSISTENT_DATA_DIR: folder.path }, [newer, '--to', 'pglite']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`newer Groundwork (0.1.0): it has migration 0099_from_the_future, which this version does not know (its latest is ${readJournal().at(-1)!.tag})`);
    expect(existsSync(join(folder.path, 'pglite'))).toBe(false);
  });

  it('refuses to back up a PGlite value that pglite-tools would cut, naming the table', async () => {
    const client = await PGlite.create(join(source.path, 'pglite'));
    try {
      await client.query('insert into notes_notes (title, body) values ($1, $2)', ['cut', TRICKY_BODY]);
    } finally {
      await client.close();
    }
    const out = join(source.path, 'cut.sql');
    const refused = await runCli('backup.ts', { PERSISTENT_DATA_DIR: source.path }, ['--out', out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/A text value in public\.notes_notes has a line starting with \\restrict/);
    expect(existsSync(out)).toBe(false);
  });
});
