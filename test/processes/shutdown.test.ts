import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/temp.ts';

describe('SIGTERM during a setup', () => {
  const folder = tempDir();
  let server: ServerProcess | undefined;
  afterEach(async () => {
    await server?.stop('SIGKILL');
    folder.remove();
  });

  it('finishes the request in flight, closes PGlite and exits 0', async () => {
    server = await spawnServer({ PERSISTENT_DATA_DIR: folder.path, SETUP_TOKEN: 'shutdown-test-token-123' });
    await server.waitForStatus((status) => status.state === 'unconfigured');
    const setup = server.post('/api/db/setup', { type: 'pglite' }, { 'x-setup-token': 'shutdown-test-token-123' });
    await server.waitForStatus((status) => status.state === 'setting_up');
    server.child.kill('SIGTERM');

    expect(await setup).toMatchObject({ status: 200, body: { database_type: 'pglite' } });
    const exit = await server.exited;
    if (exit.code !== 0) console.log(server.logs.join('\n'));
    expect(exit).toEqual({ code: 0, signal: null });
    expect(existsSync(join(folder.path, 'db.selection.json'))).toBe(true);
    expect(existsSync(join(folder.path, 'pglite', 'groundwork.lock'))).toBe(false);
  });
});
