import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
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

/**
 * Builds the web UI (services/frontend/dist) from this checkout: the test servers run the backend
 * from its sources and serve that folder, as after `npm start`. Only the front end: the backend's
 * build would rewrite services/backend/dist under tests that run the compiled server.
 */
export function buildWebUi(): void {
  execFileSync('npm', ['run', 'build', '-w', 'services/frontend'], { cwd: REPO_ROOT, stdio: 'ignore' });
}

/** Launches Debian's Chromium with a new, empty profile (Playwright makes one per launch). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`No Chromium at ${CHROMIUM_PATH}. Install it with \`apt-get install -y chromium\` (as .ci/run does), or set CHROMIUM_PATH.`);
  }
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/**
 * Runs axe-core on the page as it is now; fails on any serious or critical violation, naming the
 * rule and the elements. `state` says which page and state it was, for the failure message.
 */
export async function expectAccessible(page: Page, state: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const severe = results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.impact} ${violation.id}: ${violation.help} at ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
  if (severe.length > 0) throw new Error(`Accessibility violations on ${state}:\n${severe.join('\n')}`);
}

/**
 * Presses Tab until the focused element's text or label matches `name`, checking on the way that
 * every focused element shows its focus (a keyboard user must always see where they are).
 */
export async function tabTo(page: Page, name: RegExp, maxPresses = 40): Promise<void> {
  for (let presses = 0; presses < maxPresses; presses += 1) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate<{ text: string; outline: string }>(
      `(() => { const el = document.activeElement; const style = getComputedStyle(el);
         return { text: (el.innerText || el.labels?.[0]?.innerText || '').replace(/\\s+/g, ' ').trim(), outline: style.outlineStyle + ' ' + style.outlineWidth }; })()`,
    );
    if (/^none|\b0px$/.test(focused.outline)) throw new Error(`Focus on "${focused.text}" is not visible (outline ${focused.outline})`);
    if (name.test(focused.text)) return;
  }
  throw new Error(`Tab never reached ${name}`);
}
