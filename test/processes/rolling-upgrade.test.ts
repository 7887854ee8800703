import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../services/backend/src/paths.ts';
import { runCli } from '../helpers/cli.ts';
import { MIGRATION_TAGS } from '../helpers/migrations.ts';
import { blogPlugin, journalPlugin, pluginsFolder } from '../helpers/plugins.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/temp.ts';

const SECRET = 'rolling-upgrade-replicas-share-this-secret';
const NEXT_TAG = '0005_rolling_upgrade_test';

interface JournalFile {
  entries: { idx: number; version: string; when: number; tag: string; breakpoints: boolean }[];
}

/** Release N+1's migrations: this release's, plus one that adds a nullable column to a core table. */
function nextReleaseMigrations(): ReturnType<typeof tempDir> {
  const folder = tempDir('groundwork-migrations-');
  cpSync(MIGRATIONS_DIR, folder.path, { recursive: true });
  const journalPath = join(folder.path, 'meta/_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as JournalFile;
  const last = journal.entries.at(-1)!;
  journal.entries.push({ ...last, idx: last.idx + 1, when: last.when + 60_000, tag: NEXT_TAG });
  writeFileSync(journalPath, JSON.stringify(journal));
  writeFileSync(join(folder.path, `${NEXT_TAG}.sql`), 'ALTER TABLE "global_settings" ADD COLUMN "rolling_note" text;\n');
  return folder;
}

async function call(server: ServerProcess, method: string, path: string, token?: string, body?: unknown) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  return { status: response.status, body: (await response.json()) as any };
}

const settled = (status: { state: string; error?: string }) => status.state === 'ready' || status.error !== undefined;

describe('a rolling upgrade: replicas of release N and N+1 on one PostgreSQL', () => {
  const cleanups: (() => unknown)[] = [];
  let servers: ServerProcess[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((server) => server.stop('SIGKILL')));
    servers = [];
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function database(): Promise<TestDatabase> {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    return db;
  }

  function folder<T extends { remove(): void }>(made: T): T {
    cleanups.push(() => made.remove());
    return made;
  }

  async function start(env: Record<string, string>): Promise<ServerProcess> {
    const server = await spawnServer({ DB_TYPE: 'postgresql', ENCRYPTION_SECRET: SECRET, ...env });
    servers.push(server);
    return server;
  }

  it('N+1 migrates under the lock while N keeps serving; N restarted does no schema work and says the schema is ahead', async () => {
    const db = await database();
    const next = folder(nextReleaseMigrations());
    const dataN = folder(tempDir());
    const dataNext = folder(tempDir());
    const pluginsN = folder(pluginsFolder({ blog: blogPlugin }));
    // N+1 also ships a plugin with a table of its own.
    const pluginsNext = folder(pluginsFolder({ blog: blogPlugin, journal: journalPlugin }));
    const envN = { ...db.env, PERSISTENT_DATA_DIR: dataN.path, PLUGINS_DIR: pluginsN.path };
    const envNext = { ...db.env, PERSISTENT_DATA_DIR: dataNext.path, PLUGINS_DIR: pluginsNext.path, GROUNDWORK_MIGRATIONS_DIR: next.path };

    let releaseN = await start(envN);
    expect(await releaseN.waitForStatus(settled, 60_000)).toMatchObject({ state: 'ready' });
    const issued = await runCli('admin-token.ts', { ...db.env, PERSISTENT_DATA_DIR: dataN.path, ENCRYPTION_SECRET: SECRET });
    expect(issued.code).toBe(0);
    const token = issued.stdout.trim();

    const releaseNext = await start(envNext);
    expect(await releaseNext.waitForStatus(settled, 60_000)).toMatchObject({ state: 'ready' });
    // The new migration and the new plugin's table, each once.
    expect(await db.query('select count(*)::int as n from drizzle.__drizzle_migrations')).toEqual([{ n: MIGRATION_TAGS.length + 1 }]);
    expect(await db.query(`select column_name from information_schema.columns where table_name = 'global_settings' and column_name = 'rolling_note'`)).toHaveLength(1);
    expect(await db.query(`select plugin_id from plugin_schemas order by plugin_id`)).toEqual([{ plugin_id: 'blog' }, { plugin_id: 'journal' }]);
    expect((await call(releaseNext, 'GET', '/api/db/migrations')).body).toEqual({ applied: [...MIGRATION_TAGS, NEXT_TAG], pending: [], unknown: [], schema: 'current' });
    expect((await call(releaseNext, 'POST', '/api/plugins/journal', token, { title: 'written by N+1' })).status).toBe(201);

    // N keeps serving on the migrated database, and sees that a newer release migrated it.
    expect((await call(releaseN, 'GET', '/api/health/ready')).status).toBe(200);
    expect((await call(releaseN, 'PUT', '/api/settings/general.instance_name', token, { value: 'written by N' })).status).toBe(200);
    const seenByN = (await call(releaseN, 'GET', '/api/db/migrations')).body;
    expect(seenByN).toMatchObject({ applied: [...MIGRATION_TAGS, expect.stringMatching(/^unknown \(generated .*, hash [0-9a-f]{12}\)$/)], pending: [], schema: 'ahead' });
    expect(seenByN.unknown).toHaveLength(1);

    // N restarted (a replica of the old release replaced during the rollout): ready, warns, changes nothing.
    const schemaState = () =>
      db.query(`select (select json_agg(m order by id) from drizzle.__drizzle_migrations m) as migrations,
                       (select json_agg(p order by plugin_id) from plugin_schemas p) as plugins`);
    const before = await schemaState();
    await releaseN.stop();
    servers = servers.filter((server) => server !== releaseN);
    releaseN = await start(envN);
    expect(await releaseN.waitForStatus(settled, 60_000)).toMatchObject({ state: 'ready' });
    expect(await schemaState()).toEqual(before);
    expect(releaseN.logs.join('\n')).toMatch(/The database is ahead of this release: a newer release applied unknown \(generated/);
    expect((await call(releaseN, 'GET', '/api/db/migrations')).body.schema).toBe('ahead');
    expect((await call(releaseN, 'GET', '/api/settings/general.instance_name', token)).body.value).toBe('written by N');

    // N retired: N+1 serves on.
    await releaseN.stop();
    servers = servers.filter((server) => server !== releaseN);
    expect((await call(releaseNext, 'GET', '/api/health/ready')).status).toBe(200);
    expect((await call(releaseNext, 'PUT', '/api/settings/general.instance_name', token, { value: 'written by N+1' })).status).toBe(200);
    expect((await call(releaseNext, 'GET', '/api/plugins/journal', token)).body).toEqual([{ id: 1, title: 'written by N+1' }]);
  }, 90_000);

  it('refuses to become ready on a database whose migration history diverged, naming both sides', async () => {
    const db = await database();
    const data = folder(tempDir());
    const env = { ...db.env, PERSISTENT_DATA_DIR: data.path };
    let server = await start(env);
    expect(await server.waitForStatus(settled, 60_000)).toMatchObject({ state: 'ready' });
    await server.stop();
    servers = [];

    // Another branch's migration, applied between two of this release's.
    const [third] = await db.query<{ created_at: string }>('select created_at from drizzle.__drizzle_migrations order by created_at offset 2 limit 1');
    const foreign = Number(third!.created_at) + 1_000;
    await db.query('insert into drizzle.__drizzle_migrations (hash, created_at) values ($1, $2)', ['f0e1d2c3b4a5968778695a4b3c2d1e0f', foreign]);

    server = await start(env);
    const status = await server.waitForStatus(settled, 60_000);
    expect(status).toMatchObject({ state: 'error', error: expect.stringMatching(/migration history differs from this release's/) });
    // Status can answer before the log line has come through the pipe.
    await server.waitForLog(/unknown \(generated/, 10_000);
    const logs = server.logs.join('\n');
    expect(logs).toContain(`unknown (generated ${new Date(foreign).toISOString()}, hash f0e1d2c3b4a5)`);
    expect(logs).toContain(`where this release has ${MIGRATION_TAGS[3]}`);
    expect((await call(server, 'GET', '/api/health/ready')).status).toBe(503);
  }, 60_000);
});
