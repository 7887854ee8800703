// Runs an operator command (services/backend/src/cli/<name>.ts) the fastest way that is current:
// compiled (services/backend/dist, made by `npm run build`, which `npm start` runs) when that build
// is newer than every backend source, else from the TypeScript sources under tsx. Compiled, a
// command starts about 2 s sooner: nothing to transform. Plain JavaScript, so it needs no tsx.
//   node scripts/run-cli.js <name> [arguments…]      e.g. node scripts/run-cli.js move --to postgresql
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const BACKEND = resolve(import.meta.dirname, '../services/backend');
// What `npm run build` bundles (services/backend/build.js), and the stamp it writes last on every build
// (the build may leave unchanged outputs, and tsc its .tsbuildinfo, untouched).
const SOURCE_DIRS = ['src', 'plugins'].map((dir) => join(BACKEND, dir));
const BUILT_AT = join(BACKEND, 'dist/.built-at');

const name = process.argv[2];
if (!name || !/^[a-z-]+$/.test(name)) throw new Error('usage: node scripts/run-cli.js <command> [arguments…]');
const compiled = join(BACKEND, 'dist/src/cli', `${name}.js`);

/** Newest modification time of a file under `dir` (0 when it does not exist: an image ships dist only). */
function newestMtime(dir) {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}

const buildIsCurrent = existsSync(compiled) && existsSync(BUILT_AT) && statSync(BUILT_AT).mtimeMs >= Math.max(...SOURCE_DIRS.map(newestMtime));
// The command reads its arguments from process.argv.slice(2), as when node runs it directly.
process.argv.splice(1, 2, buildIsCurrent ? compiled : join(BACKEND, 'src/cli', `${name}.ts`));
if (buildIsCurrent) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(process.argv[1]).href);
}
