import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../services/backend/src/paths.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/temp.ts';

const run = promisify(execFile);
const BUILD = join(REPO_ROOT, 'services/backend/build.js');
// An operator's own plugin, as docs/plugins.md says to write one: JavaScript importing the compiled
// plugin API and drizzle-orm from the project's node_modules (not the copy bundled into the server).
const OPERATOR_PLUGIN = `
import { eq, sql } from 'drizzle-orm';
import { integer, serial, text } from 'drizzle-orm/pg-core';
import { definePlugin, errorRef, Type } from '${join(REPO_ROOT, 'services/backend/dist/src/plugins/index.js')}';

const Greeting = Type.Object({ id: Type.Integer(), name: Type.String(), times: Type.Integer() }, { additionalProperties: false });
export default definePlugin({
  id: 'hello',
  name: 'Hello',
  version: '1.0.0',
  tables: (table) => ({ greetings: table('greetings', { id: serial('id').primaryKey(), name: text('name').notNull(), times: integer('times').notNull().default(1) }) }),
  routes(app, { db, tables }) {
    const { greetings } = tables;
    app.post('/', { onRequest: app.requireAdmin, schema: { body: Type.Object({ name: Type.String() }), response: { 200: Greeting, '4xx': errorRef } } }, async (request) => {
      await db().insert(greetings).values({ name: request.body.name });
      await db().update(greetings).set({ times: sql\`\${greetings.times} + 1\` }).where(eq(greetings.name, request.body.name));
      const [row] = await db().select().from(greetings).where(eq(greetings.name, request.body.name));
      return row;
    });
  },
});
`;
const COMPILED_SERVER = join(REPO_ROOT, 'services/backend/dist/src/server.js');
// Plain JavaScript only: Node ≥ 22.18 would otherwise strip the types of a .ts file it is handed,
// and a server that quietly loaded TypeScript sources would pass for the compiled one.
const PLAIN_NODE = process.allowedNodeEnvironmentFlags.has('--experimental-strip-types') ? ['--no-experimental-strip-types'] : [];

// What `npm start` and the Docker image run: the backend's build, with plain node (no tsx).
describe('the compiled server', () => {
  const folder = tempDir();
  let db: TestDatabase | null = null;
  let server: ServerProcess | null = null;
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await db?.drop();
    folder.remove();
  });

  it('builds, starts with plain node, sets up on PostgreSQL and serves the compiled notes plugin', async () => {
    // The bundles and types `npm run build` makes for the backend (services/backend/build.js).
    await run(process.execPath, [BUILD], { cwd: REPO_ROOT });

    db = await createTestDatabase();
    server = await spawnServer({ PERSISTENT_DATA_DIR: folder.path, NODE_OPTIONS: '', ...db.env }, [...PLAIN_NODE, COMPILED_SERVER]);
    await server.waitForLog(/setup\?token=/);
    const token = readFileSync(join(folder.path, 'setup-token'), 'utf8').trim();

    // Setup applies the migrations in drizzle/, found from dist/src.
    const setup = await server.post('/api/db/setup', { type: 'postgresql' }, { 'x-setup-token': token });
    expect(setup).toMatchObject({ status: 200, body: { database_type: 'postgresql', admin_token: expect.stringMatching(/^gwa_/) } });
    const admin = { authorization: `Bearer ${setup.body.admin_token}` };

    // The bundled plugin, loaded from dist/plugins: its table was created and its routes answer.
    const created = await server.post('/api/plugins/notes/', { title: 'compiled' }, admin);
    expect(created).toMatchObject({ status: 201, body: { id: 1, title: 'compiled', body: '' } });
    expect(await db.query('select title from notes_notes')).toEqual([{ title: 'compiled' }]);
    expect(server.logs.join('\n')).not.toMatch(/could not be loaded|refused/i);
  });

  it('serves an operator\'s own JavaScript plugin built against the compiled plugin API, with its own drizzle-orm', async () => {
    const plugins = mkdtempSync(join(REPO_ROOT, '.tmp-operator-plugins-'));
    const data = tempDir();
    const database = await createTestDatabase();
    try {
      mkdirSync(join(plugins, 'hello'));
      writeFileSync(join(plugins, 'hello/package.json'), JSON.stringify({ type: 'module' }));
      writeFileSync(join(plugins, 'hello/index.js'), OPERATOR_PLUGIN);
      const served = await spawnServer({ PERSISTENT_DATA_DIR: data.path, NODE_OPTIONS: '', PLUGINS_DIR: plugins, ...database.env }, [...PLAIN_NODE, COMPILED_SERVER]);
      try {
        await served.waitForLog(/setup\?token=/);
        const token = readFileSync(join(data.path, 'setup-token'), 'utf8').trim();
        const setup = await served.post('/api/db/setup', { type: 'postgresql' }, { 'x-setup-token': token });
        expect(setup.status).toBe(200);
        const greeted = await served.post('/api/plugins/hello/', { name: 'operator' }, { authorization: `Bearer ${setup.body.admin_token}` });
        expect(greeted).toMatchObject({ status: 200, body: { id: 1, name: 'operator', times: 2 } });
        expect(served.logs.join('\n')).not.toMatch(/could not be loaded|refused|failed/i);
      } finally {
        await served.stop('SIGKILL');
      }
    } finally {
      await database.drop();
      data.remove();
      rmSync(plugins, { recursive: true, force: true });
    }
  });

  it("makes the embedded database's template at build time, and a PGlite setup copies it", async () => {
    // The rest of `npm run build` for the backend, after the bundles (the first test built them).
    const made = await run(process.execPath, [...PLAIN_NODE, join(REPO_ROOT, 'services/backend/dist/src/cli/pglite-template.js')], { cwd: REPO_ROOT });
    const template = /Embedded database template: (\S+)/.exec(made.stdout)![1]!;
    expect(existsSync(join(template, 'PG_VERSION'))).toBe(true);

    const data = tempDir();
    try {
      const pglite = await spawnServer({ PERSISTENT_DATA_DIR: data.path, NODE_OPTIONS: '' }, [...PLAIN_NODE, COMPILED_SERVER]);
      await pglite.waitForLog(/setup\?token=/);
      const token = readFileSync(join(data.path, 'setup-token'), 'utf8').trim();
      expect(await pglite.post('/api/db/setup', { type: 'pglite' }, { 'x-setup-token': token })).toMatchObject({ status: 200 });
      expect(pglite.logs.some((line) => line.includes('"madeWith":"template"'))).toBe(true);
      await pglite.stop();
    } finally {
      data.remove();
    }
  });
});
