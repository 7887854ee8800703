import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SETUP_PHASE_NAMES } from '../../services/backend/src/schemas/database.ts';
import { MIGRATION_TAGS } from '../helpers/migrations.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { freePort, TcpProxy } from '../helpers/tcp-proxy.ts';
import { tempDir } from '../helpers/temp.ts';

const TOKEN = 'sigkill-test-setup-token-123';

/**
 * Polls the status with no pause until setup is in `phase` (commit is a few round trips long) and
 * returns the phase it saw, or the state setup ended in if it never saw that phase.
 */
async function phaseReached(server: ServerProcess, phase: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { body } = await server.get('/api/db/status');
    if (body.phase === phase) return body.phase;
    if (body.state === 'ready' || body.state === 'error') return body.state;
  }
  throw new Error(`Setup never reached ${phase}:\n${server.logs.join('\n')}`);
}

describe('the server killed (SIGKILL) in each setup phase', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let data: ReturnType<typeof tempDir>;
  const servers: ServerProcess[] = [];
  beforeEach(async () => {
    db = await createTestDatabase();
    // 40 ms each way per chunk stretches every phase (even commit, a few round trips) enough to
    // see it in status and kill the server inside it, on a loaded machine too.
    proxy = new TcpProxy(await freePort(), Number(db.env.POSTGRES_PORT), 40);
    await proxy.start();
    data = tempDir();
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop('SIGKILL')));
    await proxy.stop();
    await db.drop();
    data.remove();
  });

  // 2 trials × 5 phases = 10.
  it.each(SETUP_PHASE_NAMES.flatMap((phase) => [phase, phase]))('in %s: after a restart it is ready, or unconfigured and a retry succeeds; never stuck, never half', async (phase) => {
    const env = { ...db.env, PERSISTENT_DATA_DIR: data.path, SETUP_TOKEN: TOKEN, ENCRYPTION_SECRET: 'sigkill-test-encryption-secret-0123456789' };
    const victim = await spawnServer({ ...env, POSTGRES_PORT: String(proxy.port) });
    servers.push(victim);
    void victim.post('/api/db/setup', { type: 'postgresql' }, { 'x-setup-token': TOKEN }).catch(() => {});
    const killedIn = await phaseReached(victim, phase);
    victim.child.kill('SIGKILL');
    await victim.exited;
    // The kill landed in the phase it was meant for, not after setup had already finished.
    expect(killedIn).toBe(phase);

    const selectionWritten = existsSync(join(data.path, 'db.selection.json'));
    // The selection file is written last, inside commit: killed in any earlier phase, there is none.
    if (phase !== 'commit') expect(selectionWritten).toBe(false);
    // Killed in commit after the setup record went in but before the selection file: the
    // database is set up, so the restart adopts it rather than offering a second setup.
    const [{ n: recorded }] = (await db.query<{ n: number }>('select count(*)::int as n from setup_record')) as [{ n: number }];
    const restarted = await spawnServer(env);
    servers.push(restarted);
    const status = await restarted.waitForStatus((s) => s.state !== 'setting_up', 60_000);
    if (selectionWritten || recorded === 1) {
      expect(status.state).toBe('ready');
      expect(existsSync(join(data.path, 'db.selection.json'))).toBe(true);
    } else {
      // Not half: no selection file means not configured, and setup can simply run again.
      expect(status).toMatchObject({ state: 'unconfigured', configured: false });
      const retry = await restarted.post('/api/db/setup', { type: 'postgresql' }, { 'x-setup-token': TOKEN });
      expect(retry.status).toBe(200);
    }
    expect((await restarted.get('/api/db/status')).body.state).toBe('ready');
    expect(await db.query('select count(*)::int as n from drizzle.__drizzle_migrations')).toEqual([{ n: MIGRATION_TAGS.length }]);
    expect(await db.query('select count(*)::int as n from setup_record')).toEqual([{ n: 1 }]);
    expect((await restarted.get('/api/health/ready')).status).toBe(200);
  });
});
