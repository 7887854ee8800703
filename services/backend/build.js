// `npm run build` for the backend: the server, its operator commands, the plugin API and the
// bundled plugins as ES module bundles in dist/ (esbuild), laid out as the sources are (dist/src/server.js,
// dist/src/cli/<name>.js, dist/src/plugins/index.js, dist/plugins/<id>/index.js), and the modules they
// share in dist/src/chunks/. One file per entry instead of ~400 modules (ours and our dependencies'):
// loading them was most of the compiled server's start (measured: listen ~2× sooner).
// Then tsc writes the types beside them (an operator's own plugin compiles against
// dist/src/plugins/index.js) and checks the sources, as the build always did.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as esbuild from 'esbuild';

const BACKEND = import.meta.dirname;
const DIST = join(BACKEND, 'dist');

// Left to Node's resolution at run time: packages that read files beside their own code (PGlite's
// WebAssembly and data, drizzle-kit's bundle, the docs UI's static files), or that are loaded only
// on demand in development (pino-pretty) or are optional (pg-native).
const EXTERNAL = ['@electric-sql/*', 'drizzle-kit', 'drizzle-kit/*', '@fastify/swagger-ui', 'pino-pretty', 'pg-native'];

const entries = [
  'src/server.ts',
  'src/plugins/index.ts',
  // The app and its configuration on their own: bench/support/status-server.js serves the compiled app plus one bare route.
  'src/app.ts',
  'src/config.ts',
  ...readdirSync(join(BACKEND, 'src/cli')).filter((name) => name.endsWith('.ts')).map((name) => `src/cli/${name}`),
  // The bundled plugins, as the loader finds them: plugins/<id>/index.ts or plugins/<id>.ts.
  ...readdirSync(join(BACKEND, 'plugins'), { withFileTypes: true }).flatMap((entry) => {
    if (entry.isFile()) return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [`plugins/${entry.name}`] : [];
    return statSync(join(BACKEND, 'plugins', entry.name, 'index.ts'), { throwIfNoEntry: false })?.isFile() ? [`plugins/${entry.name}/index.ts`] : [];
  }),
];

/** The JavaScript of an earlier build (the types and the plugins' precomputed DDL stay: tsc and the build rewrite them). */
function removeOldJavaScript(dir) {
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && /\.js(\.map|\.LEGAL\.txt)?$/.test(entry.name)) rmSync(join(entry.parentPath ?? entry.path, entry.name));
  }
}

/**
 * esbuild writes code in ASCII (escapes) but keeps comments as they are: one "…" in a comment would
 * make V8 hold the whole module's source as a two-byte string, twice the memory, for the life of
 * the process. Outside comments there is nothing to change, so this only rewrites comment text.
 */
function asciiOnly(code) {
  return code.replace(/[^\p{ASCII}]/gu, (char) => `\\u{${char.codePointAt(0).toString(16)}}`);
}

function typesAndCheck() {
  const tsc = join(BACKEND, '../../node_modules/typescript/bin/tsc');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, '-p', join(BACKEND, 'tsconfig.build.json')], { stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tsc exited with code ${code}`))));
    child.on('error', reject);
  });
}

for (const dir of ['src', 'plugins']) {
  if (statSync(join(DIST, dir), { throwIfNoEntry: false })?.isDirectory()) removeOldJavaScript(join(DIST, dir));
}
const types = typesAndCheck();
const { outputFiles } = await esbuild.build({
  absWorkingDir: BACKEND,
  entryPoints: entries,
  outdir: DIST,
  outbase: '.',
  chunkNames: 'src/chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  // The CommonJS dependencies bundled in (fastify, pg, …) call require() for Node's own modules.
  banner: { js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);" },
  // Readable stack traces: not minified, class and function names kept; the source maps point at
  // the TypeScript sources when the server runs with NODE_OPTIONS=--enable-source-maps.
  keepNames: true,
  sourcemap: 'linked',
  // Licences of the bundled packages beside each bundle (<file>.LEGAL.txt), not inside it.
  legalComments: 'linked',
  logLevel: 'warning',
  write: false,
});
for (const file of outputFiles) {
  mkdirSync(dirname(file.path), { recursive: true });
  writeFileSync(file.path, file.path.endsWith('.js') ? asciiOnly(file.text) : file.contents);
}
await types;
