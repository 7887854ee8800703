import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SETUP_PHASE_NAMES } from '../../services/backend/src/schemas/database.ts';
import { MIGRATION_TAGS } from '../helpers/migrations.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/temp.ts';

const TOKEN = 'sigkill-test-setup-token-123';

/**
 * Where the server is killed: at the end of each phase's work (GROUNDWORK_TEST_PAUSE_AT stops it
 * there, still in that phase, its lock still held), and inside commit between the setup record and
 * the selection file.
 */
const KILL_POINTS = [...SETUP_PHASE_NAMES.map((phase) => ({ point: `setup:${phase}`, phase })), { point: 'setup:commit:recorded', phase: 'commit' }];

describe('the server killed (SIGKILL) in each setup phase', () => {
  let db: TestDatabase;
  let data: ReturnType<typeof tempDir>;
  const servers: ServerProcess[] = [];
  beforeEach(async () => {
    db = await createTestDatabase();
    data = tempDir();
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop('SIGKILL')));
    await db.drop();
    data.remove();
  });

  it.each(KILL_POINTS)('at $point: after a restart it is ready (or adopts), or unconfigured and a retry succeeds; never stuck, never half', async ({ point, phase }) => {
    const env = { ...db.env, PERSISTENT_DATA_DIR: data.path, SETUP_TOKEN: TOKEN, ENCRYPTION_SECRET: 'sigkill-test-encryption-secret-0123456789' };
    const victim = await spawnServer({ ...env, GROUNDWORK_TEST_PAUSE_AT: point });
    servers.push(victim);
    // Setup is offered once boot has checked the database is not set up already.
    await victim.waitForStatus((s) => s.state === 'unconfigured', 60_000);
    void victim.post('/api/db/setup', { type: 'postgresql' }, { 'x-setup-token': TOKEN }).catch(() => {});
    await victim.waitForLog(new RegExp(`Paused at ${point} `));
    // The kill lands in the phase it was meant for: status says so.
    expect((await victim.get('/api/db/status')).body).toMatchObject({ state: 'setting_up', phase });
    victim.child.kill('SIGKILL');
    await victim.exited;

    const selectionWritten = existsSync(join(data.path, 'db.selection.json'));
    // The selection file is written last, at the end of commit: killed anywhere before, there is none.
    expect(selectionWritten).toBe(point === 'setup:commit');
    const [{ present }] = (await db.query<{ present: boolean }>(`select to_regclass('public.setup_record') is not null as present`)) as [{ present: boolean }];
    const recorded = present ? (await db.query<{ n: number }>('select count(*)::int as n from setup_record'))[0]!.n : 0;
    // Only a kill after the setup record's transaction leaves a record.
    expect(recorded).toBe(point.startsWith('setup:commit') ? 1 : 0);

    const restarted = await spawnServer(env);
    servers.push(restarted);
    const status = await restarted.waitForStatus((s) => s.state !== 'setting_up', 60_000);
    if (recorded === 1) {
      // Set up, with or without its selection file: ready (without it, by adopting the database
      // instead of setting it up a second time).
      expect(status.state).toBe('ready');
      expect(existsSync(join(data.path, 'db.selection.json'))).toBe(true);
      expect(await db.query('select count(*)::int as n from admin_tokens')).toEqual([{ n: 1 }]);
    } else {
      // Not half: no selection file means not configured, and setup can simply run again.
      expect(status).toMatchObject({ state: 'unconfigured', configured: false });
      const retry = await restarted.post('/api/db/setup', { type: 'postgresql' }, { 'x-setup-token': TOKEN });
      expect(retry.status).toBe(200);
      expect(retry.body.admin_token).toEqual(expect.any(String));
    }
    expect((await restarted.get('/api/db/status')).body.state).toBe('ready');
    expect(await db.query('select count(*)::int as n from drizzle.__drizzle_migrations')).toEqual([{ n: MIGRATION_TAGS.length }]);
    expect(await db.query('select count(*)::int as n from setup_record')).toEqual([{ n: 1 }]);
    expect((await restarted.get('/api/health/ready')).status).toBe(200);
  });
});
