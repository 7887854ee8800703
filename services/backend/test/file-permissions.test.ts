import { chmodSync, chownSync, existsSync, lstatSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../../../test/helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/postgres.ts';
import { tempDir } from '../../../test/helpers/temp.ts';
import { SettingsCipher } from '../src/global-settings/crypto.ts';

// The tests run as root (uid 0 here); "another user" is nobody.
const OTHER_UID = 65534;

/** Every path under `root` whose mode is not 0700 (folders) or 0600 (files), with its mode. */
function notPrivate(root: string): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    const stats = lstatSync(path);
    const mode = stats.mode & 0o777;
    if (mode !== (stats.isDirectory() ? 0o700 : 0o600)) found.push(`${relative(root, path) || '.'} ${mode.toString(8)}`);
    if (stats.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(root);
  return found;
}

function countFiles(root: string): number {
  return readdirSync(root, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).length;
}

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('the embedded database folder', () => {
  const folder = tempDir();
  let previousUmask: number;
  let t: TestApp | undefined;
  beforeEach(() => {
    previousUmask = process.umask(0o022);
  });
  afterEach(async () => {
    await t?.close();
    process.umask(previousUmask);
    folder.remove();
  });

  it('after a PGlite setup under umask 022, every file in persistent_data is 0600 and every folder 0700; loosened modes are tightened at the next open', async () => {
    // As in a fresh clone: a folder of ours that others can only read is accepted and left as it is.
    chmodSync(folder.path, 0o755);
    t = await startApp({ SETUP_TOKEN: '' }, { dataDir: folder.path });
    expect(modeOf(join(folder.path, 'setup-token'))).toBe(0o600);
    const pglite = join(folder.path, 'pglite');

    const token = readFileSync(join(folder.path, 'setup-token'), 'utf8').trim();
    expect((await t.setUp('pglite', token)).statusCode).toBe(200);
    // While it runs: the folder is what keeps other users out of files PGlite adds.
    expect(modeOf(pglite)).toBe(0o700);
    await t.app.close();
    expect(countFiles(pglite)).toBeGreaterThan(500);
    expect(notPrivate(folder.path)).toEqual(['. 755']);

    // Someone loosens everything (as PGlite's own initdb leaves it): the next open makes it private again.
    for (const entry of readdirSync(pglite, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name);
      chmodSync(path, entry.isDirectory() ? 0o777 : 0o666);
    }
    chmodSync(pglite, 0o777);
    t = await startApp({}, { dataDir: folder.path });
    expect(t.app.setupStatus.snapshot().state).toBe('ready');
    expect(modeOf(pglite)).toBe(0o700);
    expect(modeOf(join(pglite, 'global', 'pg_control'))).toBe(0o600);
    expect(modeOf(join(pglite, 'base'))).toBe(0o700);
    await t.app.close();
    expect(notPrivate(folder.path)).toEqual(['. 755']);
  });
});

describe('a PERSISTENT_DATA_DIR others could write to, or that belongs to another user', () => {
  let folder: ReturnType<typeof tempDir>;
  let t: TestApp | undefined;
  beforeEach(() => {
    folder = tempDir();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    folder.remove();
  });

  const unsafe = [
    { name: 'mode 0777', make: (path: string) => chmodSync(path, 0o777), says: 'is writable by other users (mode 0777)', fix: (path: string) => `chmod 700 ${path}` },
    { name: 'mode 0770', make: (path: string) => chmodSync(path, 0o770), says: 'is writable by other users (mode 0770)', fix: (path: string) => `chmod 700 ${path}` },
    {
      name: 'owned by another user',
      make: (path: string) => chownSync(path, OTHER_UID, OTHER_UID),
      says: `belongs to uid ${OTHER_UID}, not to the user the server runs as`,
      fix: (path: string) => `chown ${process.getuid!()} ${path}`,
    },
  ];

  it.each(unsafe)('$name: refused at boot, even with a planted setup-token and encryption.key', async ({ make, says, fix }) => {
    // The attack: plant a token you know and a key you keep, wait for the operator to start the server.
    const planted = 'attacker-chosen-token-0123456789';
    writeFileSync(join(folder.path, 'setup-token'), `${planted}\n`, { mode: 0o600 });
    writeFileSync(join(folder.path, 'encryption.key'), `${SettingsCipher.generate().encoded}\n`, { mode: 0o600 });
    make(folder.path);

    t = await startApp({ SETUP_TOKEN: '' }, { dataDir: folder.path });
    const status = t.app.setupStatus.snapshot(true);
    expect(status).toMatchObject({ state: 'error', configured: false });
    expect(status.detail).toContain(`PERSISTENT_DATA_DIR (${folder.path}) ${says}`);
    expect(status.detail).toContain(fix(folder.path));
    expect(t.logs.join('')).toContain(fix(folder.path));
    expect(t.logs.join('')).not.toContain(planted);

    const setup = await t.setUp('pglite', planted);
    expect(setup.statusCode).toBe(401);
    expect(existsSync(join(folder.path, 'pglite'))).toBe(false);
    expect(existsSync(join(folder.path, 'db.selection.json'))).toBe(false);
  });

  it.each(unsafe)('$name: refused at setup, with the folder and the fix, before anything is written', async ({ make, says, fix }) => {
    t = await startApp({}, { dataDir: folder.path });
    expect(t.app.setupStatus.snapshot().state).toBe('unconfigured');
    make(folder.path);

    const setup = await t.setUp('pglite');
    expect(setup.statusCode).toBe(500);
    expect(setup.json()).toEqual({ error: 'storage_error', message: expect.stringContaining(`PERSISTENT_DATA_DIR (${folder.path}) ${says}`) });
    expect(setup.json().message).toContain(fix(folder.path));
    expect(readdirSync(folder.path)).toEqual([]);
  });

});

describe('state files the server does not write itself', () => {
  let folder: ReturnType<typeof tempDir>;
  let elsewhere: ReturnType<typeof tempDir>;
  let t: TestApp | undefined;
  let db: TestDatabase | undefined;
  beforeEach(() => {
    folder = tempDir();
    elsewhere = tempDir();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await db?.drop();
    db = undefined;
    folder.remove();
    elsewhere.remove();
  });

  const PLANTED = 'planted-setup-token-0123456789';
  const plantings = [
    {
      name: 'a symbolic link (to a root-only file)',
      plant: (path: string, content: string) => {
        const target = join(elsewhere.path, 'root-only');
        writeFileSync(target, content, { mode: 0o600 });
        symlinkSync(target, path);
      },
      says: 'it is a symbolic link',
      fix: (path: string) => `rm ${path}`,
    },
    { name: 'mode 0644', plant: (path: string, content: string) => writeFileSync(path, content, { mode: 0o644 }), says: 'its mode is 0644, so other users can read it', fix: (path: string) => `chmod 600 ${path}` },
    {
      name: 'owned by another user',
      plant: (path: string, content: string) => {
        writeFileSync(path, content, { mode: 0o600 });
        chownSync(path, OTHER_UID, OTHER_UID);
      },
      says: `it belongs to uid ${OTHER_UID}`,
      fix: (path: string) => `chown ${process.getuid!()} ${path}`,
    },
  ];

  it.each(plantings)('a setup-token that is $name is not trusted: boot says which file and the fix, never its content', async ({ plant, says, fix }) => {
    const file = join(folder.path, 'setup-token');
    plant(file, `${PLANTED}\n`);
    t = await startApp({ SETUP_TOKEN: '' }, { dataDir: folder.path });
    const status = t.app.setupStatus.snapshot(true);
    expect(status.state).toBe('error');
    expect(status.detail).toContain(`${file} is not trusted: ${says}`);
    expect(status.detail).toContain(fix(file));
    const logs = t.logs.join('');
    expect(logs).toContain(`${file} is not trusted`);
    expect(logs).not.toContain(PLANTED);
    expect((await t.setUp('pglite', PLANTED)).statusCode).toBe(401);
    expect(existsSync(join(folder.path, 'pglite'))).toBe(false);
  });

  it.each(plantings)('an encryption.key that is $name is not trusted: setup fails naming the file and the fix, never the key', async ({ plant, says, fix }) => {
    db = await createTestDatabase();
    const file = join(folder.path, 'encryption.key');
    // A valid key the attacker keeps, to decrypt the SMTP password later.
    const key = SettingsCipher.generate().encoded;
    plant(file, `${key}\n`);
    t = await startApp(db.env, { dataDir: folder.path });

    const setup = await t.setUp('postgresql');
    expect(setup.statusCode).toBe(500);
    expect(setup.json()).toEqual({ error: 'storage_error', message: expect.stringContaining(`${file} is not trusted: ${says}`), phase: 'settings' });
    expect(setup.json().message).toContain(fix(file));
    expect(t.logs.join('')).not.toContain(key);
    expect(existsSync(join(folder.path, 'db.selection.json'))).toBe(false);
  });

  const selection = JSON.stringify({ type: 'postgresql', selectedAt: '2026-01-01T00:00:00Z', version: 1 });

  it.each([
    {
      name: 'a symbolic link',
      plant: (path: string) => {
        writeFileSync(join(elsewhere.path, 'selection'), selection);
        symlinkSync(join(elsewhere.path, 'selection'), path);
      },
      says: 'it is a symbolic link',
    },
    { name: 'writable by others (0666)', plant: (path: string) => writeFileSync(path, selection, { mode: 0o666 }), says: 'its mode is 0666, so other users can change it' },
  ])('a db.selection.json that is $name is reported, not used', async ({ plant, says }) => {
    const file = join(folder.path, 'db.selection.json');
    const previous = process.umask(0);
    try {
      plant(file);
    } finally {
      process.umask(previous);
    }
    t = await startApp({}, { dataDir: folder.path });
    expect(t.app.setupStatus.snapshot(true)).toMatchObject({ state: 'error', configured: false, detail: expect.stringContaining(`${file} is not trusted: ${says}`) });
    expect((await t.setUp('postgresql')).json().error).toBe('selection_invalid');
  });

  it('a db.selection.json of ours that others can only read (written by an earlier version) is used and made 0600', async () => {
    const file = join(folder.path, 'db.selection.json');
    writeFileSync(file, selection, { mode: 0o644 });
    chmodSync(file, 0o644);
    t = await startApp({}, { dataDir: folder.path });
    expect(t.app.setupStatus.snapshot()).toMatchObject({ configured: true, type: 'postgresql' });
    expect(modeOf(file)).toBe(0o600);
  });
});
