import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/temp.ts';

// SIGTERM is what containers and process managers send; SIGINT is Ctrl-C in a terminal.
describe.each(['SIGTERM', 'SIGINT'] as const)('%s during a setup', (signal) => {
  let folder: ReturnType<typeof tempDir>;
  let server: ServerProcess | undefined;
  beforeEach(() => {
    folder = tempDir();
  });
  afterEach(async () => {
    await server?.stop('SIGKILL');
    folder.remove();
  });

  it('finishes the request in flight, closes PGlite and exits 0', async () => {
    server = await spawnServer({ PERSISTENT_DATA_DIR: folder.path, SETUP_TOKEN: 'shutdown-test-token-123' });
    await server.waitForStatus((status) => status.state === 'unconfigured');
    const setup = server.post('/api/db/setup', { type: 'pglite' }, { 'x-setup-token': 'shutdown-test-token-123' });
    await server.waitForStatus((status) => status.state === 'setting_up');
    server.child.kill(signal);

    expect(await setup).toMatchObject({ status: 200, body: { database_type: 'pglite' } });
    const exit = await server.exited;
    if (exit.code !== 0) console.log(server.logs.join('\n'));
    expect(exit).toEqual({ code: 0, signal: null });
    expect(server.logs.join('\n')).toContain(`${signal} received, shutting down`);
    expect(existsSync(join(folder.path, 'db.selection.json'))).toBe(true);
    expect(existsSync(join(folder.path, 'pglite', 'groundwork.lock'))).toBe(false);
  });
});
