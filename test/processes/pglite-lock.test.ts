import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/temp.ts';

describe('two processes on one PGlite folder', () => {
  const folder = tempDir();
  const servers: ServerProcess[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((server) => server.stop('SIGKILL')));
    folder.remove();
  });

  it('sets up the first headlessly; the second refuses with a clear error and leaves the data alone', async () => {
    const env = { PERSISTENT_DATA_DIR: folder.path, DB_TYPE: 'pglite' };
    const first = await spawnServer(env);
    servers.push(first);
    expect(await first.waitForStatus((status) => status.state === 'ready')).toMatchObject({ type: 'pglite', configured: true });
    const selection = readFileSync(join(folder.path, 'db.selection.json'), 'utf8');

    const second = await spawnServer(env);
    servers.push(second);
    const status = await second.waitForStatus((s) => s.state === 'error');
    expect(status.error).toMatch(/in use by another process/);
    // The log line follows the state change through the child's stdout: wait for it, do not race it.
    await second.waitForLog(new RegExp(`in use by another Groundwork process \\(PID ${first.child.pid}\\)`), 30_000);
    expect((await second.get('/api/health/ready')).status).toBe(503);
    expect((await second.get('/api/db/migrations')).status).toBe(503);

    // The first keeps working and the files are as it left them.
    expect((await first.get('/api/health/ready')).status).toBe(200);
    expect(readFileSync(join(folder.path, 'pglite', 'groundwork.lock'), 'utf8')).toBe(String(first.child.pid));
    expect(readFileSync(join(folder.path, 'db.selection.json'), 'utf8')).toBe(selection);
  });
});
