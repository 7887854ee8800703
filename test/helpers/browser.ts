import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { REPO_ROOT } from '../../services/backend/src/paths.ts';

/** Debian's chromium package: the only browser the tests use (never a download). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// No GPU, no network of its own, no first-run or background work: quiet and the same on every machine.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Screenshots of each step land here (gitignored), for people to look at after a run. */
export const ARTIFACTS_DIR = join(REPO_ROOT, 'test/artifacts');

/** Launches Debian's Chromium with a new, empty profile (Playwright makes one per launch). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`No Chromium at ${CHROMIUM_PATH}. Install it with \`apt-get install -y chromium\` (as .ci/run does), or set CHROMIUM_PATH.`);
  }
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}
