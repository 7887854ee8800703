import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FRONTEND_DIST_DIR, REPO_ROOT } from '../../services/backend/src/paths.ts';
import type { BenchCase } from '../lib.ts';

/** #8: the JavaScript a browser downloads for the web UI, gzipped. */
export const wizardSizeBench: BenchCase = {
  id: 8,
  title: 'wizard JS, gzip',
  async run() {
    execFileSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: 'ignore' });
    const assets = join(FRONTEND_DIST_DIR, 'assets');
    const bytes = readdirSync(assets)
      .filter((file) => file.endsWith('.js'))
      .reduce((total, file) => total + gzipSync(readFileSync(join(assets, file)), { level: 9 }).length, 0);
    const kb = bytes / 1024;
    return [{ what: '#8 web UI JavaScript, gzip -9', baseline: '—', ours: `${kb.toFixed(1)} kB`, ratio: null, goal: '≤ 100 kB', met: kb <= 100 }];
  },
};
