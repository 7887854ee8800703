import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';

describe('a first PGlite setup that fails after the database was created', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('removes the folder it created, and a retry succeeds', async () => {
    t = await startApp();
    // The settings phase writes the generated key here; a folder in its place makes it fail,
    // after connect (initdb) and migrate have filled persistent_data/pglite.
    const keyPath = join(t.dataDir, 'encryption.key');
    mkdirSync(keyPath);
    writeFileSync(join(keyPath, 'in-the-way'), '');

    const failed = await t.setUp('pglite');
    expect(failed.statusCode).toBe(500);
    expect(failed.json()).toMatchObject({ error: 'storage_error', phase: 'settings' });
    expect(t.logs.some((line) => line.includes('"phase":"migrate"') && line.includes('setup phase done'))).toBe(true);
    expect(existsSync(join(t.dataDir, 'pglite'))).toBe(false);
    expect(existsSync(join(t.dataDir, 'db.selection.json'))).toBe(false);
    expect(t.app.setupStatus.snapshot()).toMatchObject({ state: 'unconfigured', configured: false });

    rmSync(keyPath, { recursive: true });
    expect((await t.setUp('pglite')).statusCode).toBe(200);
    expect(existsSync(join(t.dataDir, 'pglite', 'PG_VERSION'))).toBe(true);
  });
});
