import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../services/backend/src/paths.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/temp.ts';

const run = promisify(execFile);
const BACKEND = join(REPO_ROOT, 'services/backend');
const COMPILED_SERVER = join(BACKEND, 'dist/src/server.js');
const PLAIN_NODE = process.allowedNodeEnvironmentFlags.has('--experimental-strip-types') ? ['--no-experimental-strip-types'] : [];
// Preloaded into the server: says on stderr which of the big, deferred packages a thread loads.
const PROBE = `
const Module = require('node:module');
const { isMainThread } = require('node:worker_threads');
const compile = Module.prototype._compile;
Module.prototype._compile = function (content, filename) {
  const name = ['drizzle-kit', '@fastify/swagger-ui'].find((candidate) => filename.includes('/node_modules/' + candidate + '/'));
  if (name) process.stderr.write('PROBE loaded ' + name + ' in ' + (isMainThread ? 'the main thread' : 'a worker') + '\\n');
  return compile.call(this, content, filename);
};
`;

// What `npm start` runs: the build (with the bundled plugins' precomputed DDL), with plain node.
describe('the compiled server keeps drizzle-kit and the docs UI out until needed', () => {
  const folders: { remove(): void }[] = [];
  const databases: TestDatabase[] = [];
  const servers: ServerProcess[] = [];
  const probe = join(REPO_ROOT, '.tmp', `probe-${process.pid}.cjs`);
  afterAll(async () => {
    for (const server of servers) await server.stop('SIGKILL');
    for (const db of databases) await db.drop();
    for (const folder of folders) folder.remove();
    rmSync(probe, { force: true });
  });

  async function start(env: Record<string, string> = {}): Promise<{ server: ServerProcess; db: TestDatabase; token: string }> {
    const folder = tempDir();
    folders.push(folder);
    const db = await createTestDatabase();
    databases.push(db);
    const server = await spawnServer({ PERSISTENT_DATA_DIR: folder.path, NODE_OPTIONS: '', ...db.env, ...env }, [...PLAIN_NODE, '--require', probe, COMPILED_SERVER]);
    servers.push(server);
    await server.waitForLog(/setup\?token=/);
    return { server, db, token: readFileSync(join(folder.path, 'setup-token'), 'utf8').trim() };
  }

  it('sets up the bundled plugins from their precomputed DDL without drizzle-kit, and loads the docs UI on the first request for it', async () => {
    await run('npm', ['run', 'build', '-w', 'services/backend'], { cwd: REPO_ROOT });
    mkdirSync(join(REPO_ROOT, '.tmp'), { recursive: true });
    writeFileSync(probe, PROBE);

    const { server, db, token } = await start();
    const setup = await server.post('/api/db/setup', { type: 'postgresql' }, { 'x-setup-token': token });
    expect(setup.status).toBe(200);
    expect(await db.query('select count(*)::int as n from notes_notes')).toEqual([{ n: 0 }]);
    expect((await db.query('select plugin_id from plugin_schemas order by 1')).map((row) => row.plugin_id)).toEqual(['audit_log', 'notes']);
    expect(server.logs.join('\n')).not.toMatch(/PROBE loaded|drizzle-kit/);

    const docs = await server.get('/api/docs/json');
    expect(docs.status).toBe(200);
    expect(Object.keys(docs.body.paths)).toContain('/api/db/setup');
    await server.waitForLog(/PROBE loaded @fastify\/swagger-ui in the main thread/);
    expect(server.logs.join('\n')).not.toMatch(/PROBE loaded drizzle-kit/);
  });

  it('a plugin whose tables differ from its precomputed DDL goes through drizzle-kit, in a worker only', async () => {
    // The compiled notes plugin beside a precomputed file for other tables (its import of ../../src resolves inside dist/).
    const plugins = mkdtempSync(join(BACKEND, 'dist', '.test-plugins-'));
    folders.push({ remove: () => rmSync(plugins, { recursive: true, force: true }) });
    mkdirSync(join(plugins, 'notes'));
    copyFileSync(join(BACKEND, 'dist/plugins/notes/index.js'), join(plugins, 'notes/index.js'));
    const precomputed = JSON.parse(readFileSync(join(BACKEND, 'dist/plugins/notes/index.schema.json'), 'utf8')) as { fingerprint: string };
    writeFileSync(join(plugins, 'notes/index.schema.json'), JSON.stringify({ ...precomputed, fingerprint: 'of-other-tables', statements: ['select 1/0'] }));

    const { server, db, token } = await start({ PLUGINS_DIR: plugins });
    const setup = await server.post('/api/db/setup', { type: 'postgresql' }, { 'x-setup-token': token });
    expect(setup.status).toBe(200);
    expect(await db.query('select count(*)::int as n from notes_notes')).toEqual([{ n: 0 }]);
    const logs = server.logs.join('\n');
    expect(logs).toMatch(/Plugin notes: its tables changed, computing the statements with drizzle-kit in a worker/);
    expect(logs).toMatch(/PROBE loaded drizzle-kit in a worker/);
    expect(logs).not.toMatch(/PROBE loaded drizzle-kit in the main thread/);
  });
});
