import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import vue from '@vitejs/plugin-vue';
import { build } from 'vite';
import { FRONTEND_DIST_DIR, REPO_ROOT } from '../../services/backend/src/paths.ts';
import { tempDir } from '../../test/helpers/temp.ts';
import type { BenchCase } from '../lib.ts';

const MINIMAL_APP = join(import.meta.dirname, '../support/minimal-vue-app');
// The web UI's own copies of its dependencies (npm may keep vue-router inside services/frontend).
const fromFrontend = createRequire(join(REPO_ROOT, 'services/frontend/package.json'));
const packageDir = (name: string) => dirname(fromFrontend.resolve(`${name}/package.json`));

/** The JavaScript a browser downloads from a built app's assets/, gzip -9, in kB. */
function gzippedJsKb(dist: string): number {
  const assets = join(dist, 'assets');
  const bytes = readdirSync(assets)
    .filter((file) => file.endsWith('.js'))
    .reduce((total, file) => total + gzipSync(readFileSync(join(assets, file)), { level: 9 }).length, 0);
  return bytes / 1024;
}

/** #8: the web UI's JavaScript beside the least Vue + vue-router app built the same way. */
export const wizardSizeBench: BenchCase = {
  id: 8,
  title: 'web UI JS, gzip',
  async run() {
    // Sizes do not vary from run to run: one build of each.
    execFileSync('npm', ['run', 'build', '-w', 'services/frontend'], { cwd: REPO_ROOT, stdio: 'ignore' });
    const ours = gzippedJsKb(FRONTEND_DIST_DIR);
    const out = tempDir('groundwork-bench-');
    try {
      await build({ root: MINIMAL_APP, configFile: false, logLevel: 'silent', plugins: [vue()], resolve: { alias: { vue: packageDir('vue'), 'vue-router': packageDir('vue-router') } }, build: { outDir: out.path, emptyOutDir: true } });
      const baseline = gzippedJsKb(out.path);
      const kb = (value: number) => `${value.toFixed(1)} kB`;
      return [
        {
          what: '#8 web UI JavaScript, gzip -9',
          baseline: `${kb(baseline)} (Vue + vue-router with one route, the same Vite and Vue plugin)`,
          ours: kb(ours),
          ratio: ours / baseline,
          goal: '≤ 100 kB',
          met: ours <= 100,
          note: 'the difference is the app itself: the setup wizard and the admin pages',
        },
      ];
    } finally {
      out.remove();
    }
  },
};
