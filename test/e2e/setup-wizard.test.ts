/**
 * The setup wizard end to end, in real Chromium (Debian's package, driven by playwright-core),
 * against a server started fresh as `npm start` starts it, serving the built front end.
 * Every step is done by clicking; a screenshot of each lands in test/artifacts/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { ARTIFACTS_DIR, buildWebUi, expectAccessible, launchChromium } from '../helpers/browser.ts';
import { MIGRATION_TAGS } from '../helpers/migrations.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/temp.ts';

const SETUP_LINK = /Open (http:\/\/\S+\/setup\?token=\S+) /;

describe('the /setup wizard in Chromium', () => {
  let browser: Browser;
  let server: ServerProcess | undefined;
  let db: TestDatabase | undefined;
  const folders: Array<{ remove(): void }> = [];

  beforeAll(async () => {
    buildWebUi();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await server?.stop();
    await db?.drop();
    server = db = undefined;
    for (const folder of folders.splice(0)) folder.remove();
  });

  /** A fresh server with no database chosen, its setup token generated (as on a first `npm start`). */
  async function startFreshServer(env: Record<string, string> = {}) {
    const folder = tempDir();
    folders.push(folder);
    server = await spawnServer({ PERSISTENT_DATA_DIR: folder.path, ...env });
    await server.waitForLog(SETUP_LINK);
    const link = SETUP_LINK.exec(server.logs.find((line) => SETUP_LINK.test(line))!)![1]!;
    return { server, link, dataDir: folder.path };
  }

  /** A page in a new browser context; when the test fails, a screenshot shows where it stopped. */
  async function newPage(name: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    onTestFailed(async () => {
      await shot(page, `${name}-FAILED`).catch(() => {});
    });
    return page;
  }

  /** Console errors, CSP violations among them (Chromium reports each one there). */
  function watchConsoleErrors(page: Page): string[] {
    const errors: string[] = [];
    page.on('console', (message) => message.type() === 'error' && errors.push(`${message.text()} (${message.location().url})`));
    return errors;
  }

  /** Every CSP violation the page reports to itself, across navigations; call the result to read them. */
  async function watchCspViolations(page: Page): Promise<() => Promise<string[]>> {
    const violations: string[] = [];
    await page.exposeFunction('reportCspViolation', (text: string) => violations.push(text));
    await page.addInitScript(`document.addEventListener('securitypolicyviolation', (event) =>
      window.reportCspViolation(event.violatedDirective + ' ' + event.blockedURI + ' (' + event.sourceFile + ':' + event.lineNumber + ')'));`);
    return async () => violations;
  }

  /** What every page and API answer must carry. */
  function expectSecurityHeaders(headers: Record<string, string>) {
    for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"]) {
      expect(headers['content-security-policy']).toContain(directive);
    }
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(headers['referrer-policy']).toBe('no-referrer');
    expect(headers['x-content-type-options']).toBe('nosniff');
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`), fullPage: true });

  it('completes every step by clicking, on the embedded database; the status page then shows it ready', async () => {
    db = await createTestDatabase();
    // PostgreSQL settings in the environment, so step 2 can show them and test the connection.
    const { server, link } = await startFreshServer(db.env);
    const page = await newPage('happy-path');
    const consoleErrors = watchConsoleErrors(page);
    const cspViolations = await watchCspViolations(page);
    const referers: string[] = [];
    page.on('request', (request) => request.headers()['referer'] && referers.push(`${request.url()} ← ${request.headers()['referer']}`));

    // Any page goes to /setup while nothing is set up.
    await page.goto(server.url + '/');
    await page.waitForURL('**/setup');

    // 1. Welcome: the token from the log's link is filled in, and leaves the address bar at once.
    const pageResponse = await page.goto(link);
    expectSecurityHeaders(pageResponse!.headers());
    await expect.poll(() => page.getByRole('heading', { name: 'Welcome' }).isVisible()).toBe(true);
    expect(await page.getByLabel('Setup token').inputValue()).toBe(new URL(link).searchParams.get('token'));
    await page.waitForURL((url) => url.pathname === '/setup' && !url.searchParams.has('token'));
    expect(page.url()).not.toContain('token');
    expect(await page.evaluate<string>('location.href')).toBe(`${server.url}/setup`);
    await shot(page, '1-token');
    await expectAccessible(page, 'the wizard: token step');
    const apiAnswer = page.waitForResponse('**/api/db/environment');
    await page.getByRole('button', { name: 'Continue' }).click();
    expectSecurityHeaders((await apiAnswer).headers());
    expect((await apiAnswer).headers()['cache-control']).toBe('no-store');

    // 2. Database: what the server read about PostgreSQL (never the password), and a connection test.
    await page.getByRole('heading', { name: 'Choose a database' }).waitFor();
    await page.getByLabel('PostgreSQL server').check();
    await expect.poll(() => page.locator('.facts').innerText()).toContain(db.env.POSTGRES_DATABASE);
    expect(await page.content()).not.toContain(db.env.POSTGRES_PASSWORD);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText(/Connected\. The server answered in [\d.]+ ms/).waitFor();
    await shot(page, '2-database-postgresql-tested');
    await expectAccessible(page, 'the wizard: database step, connection tested');
    await page.getByLabel('Embedded (PGlite)').check();
    await shot(page, '2-database-embedded');
    await page.getByRole('button', { name: 'Set up with the embedded database' }).click();

    // 3. Set up: live phases, then 4. the first settings (skipped here: the defaults stay), then 5. Done with the admin token shown once.
    await page.getByRole('heading', { name: 'Setting up' }).waitFor();
    // Live: a phase the server reports as running shows as running (PGlite's first start takes seconds).
    await page.locator('.phases li.phase-running').waitFor();
    await shot(page, '3-progress');
    await expectAccessible(page, 'the wizard: setting up');
    await page.getByRole('heading', { name: 'First settings' }).waitFor({ timeout: 120_000 });
    await page.getByLabel('Instance name').waitFor();
    await shot(page, '4-first-settings');
    await page.getByRole('button', { name: 'Skip for now' }).click();
    await page.getByRole('heading', { name: 'Done' }).waitFor();
    await expectAccessible(page, 'the wizard: done');
    const adminToken = await page.getByLabel('Admin token').inputValue();
    expect(adminToken).toMatch(/\S{20,}/);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByText('Copied to the clipboard.').waitFor();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(adminToken);
    await shot(page, '5-done');

    // The server says ready, and the status page shows it.
    const status = await server.get('/api/db/status');
    expect(status.body).toMatchObject({ configured: true, state: 'ready', type: 'pglite', dialect: 'postgresql' });
    await page.getByRole('link', { name: 'status page' }).click();
    await page.getByRole('heading', { name: 'Status' }).waitFor();
    await expect.poll(() => page.locator('.facts').first().innerText()).toMatch(/State\s+ready/);
    expect(await page.locator('.facts').first().innerText()).toMatch(/Database type\s+Embedded \(PGlite\)/);
    await page.getByText(`${MIGRATION_TAGS.length} migrations applied`).click();
    for (const tag of MIGRATION_TAGS) await page.getByText(tag, { exact: true }).waitFor();

    await expectAccessible(page, 'the status page');
    await shot(page, '6-status');

    // The admin page, with the token the wizard kept in this tab: settings, plugins with their tables.
    // Skipped settings kept their defaults.
    await page.getByRole('link', { name: 'open the admin page' }).click();
    await page.getByRole('heading', { name: 'Plugins' }).waitFor();
    await page.getByText('notes_notes', { exact: true }).waitFor();
    await page.getByRole('heading', { name: 'Mail (SMTP)' }).waitFor();
    expect(await page.getByLabel('Instance name').inputValue()).toBe('Groundwork');
    expect(await page.locator('#setting-general-instance_name-origin').innerText()).toBe('Default');
    expect(await page.evaluate('[sessionStorage.length, localStorage.length]')).toEqual([1, 0]);
    expect(await page.evaluate(`sessionStorage.getItem('groundwork.adminToken')`)).toBe(adminToken);
    await shot(page, '7-admin');

    // Once set up, /setup goes home.
    await page.goto(link);
    await page.getByRole('heading', { name: 'Status' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/');

    // How it looks on a phone, in dark mode.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, '8-status-phone-dark');
    await expectAccessible(page, 'the status page on a phone in dark mode');
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    expect(consoleErrors).toEqual([]);
    expect(await cspViolations()).toEqual([]);
    // No-referrer: the token in the first URL never went out as a Referer.
    expect(referers).toEqual([]);
    await page.context().close();
  });

  it('the API docs work under their CSP', async () => {
    const { server } = await startFreshServer();
    const page = await newPage('api-docs');
    const consoleErrors = watchConsoleErrors(page);
    const cspViolations = await watchCspViolations(page);
    const response = await page.goto(`${server.url}/api/docs`);
    expect(response!.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByText('/api/db/setup', { exact: true }).first().waitFor();
    await page.getByText('/api/db/status', { exact: true }).first().click();
    await page.getByRole('button', { name: 'Try it out' }).click();
    await page.getByRole('button', { name: 'Execute' }).click();
    await page.locator('.live-responses-table .response-col_status').getByText('200', { exact: true }).waitFor();
    await shot(page, 'api-docs');
    expect(consoleErrors).toEqual([]);
    expect(await cspViolations()).toEqual([]);
    await page.context().close();
  });

  it('a wrong token is refused in plain words beside the token step; the right one then goes through', async () => {
    const { server, link, dataDir } = await startFreshServer();
    const page = await newPage('wrong-token');
    await page.setViewportSize({ width: 390, height: 844 });

    await page.goto(`${server.url}/setup?token=not-the-right-token`);
    await page.getByRole('button', { name: 'Continue' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/did not accept the setup token/);
    expect(await page.getByLabel('Setup token').getAttribute('aria-invalid')).toBe('true');
    await shot(page, 'error-1-wrong-token');
    await expectAccessible(page, 'the wizard: token refused');

    // The token the server saved for whoever runs it (the same as in the log's link).
    const token = readFileSync(join(dataDir, 'setup-token'), 'utf8').trim();
    expect(token).toBe(new URL(link).searchParams.get('token'));
    await page.getByLabel('Setup token').fill(token);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Choose a database' }).waitFor();
    // No PostgreSQL in this server's environment: the option says what to set.
    await page.getByLabel('PostgreSQL server').check();
    await page.getByText('PostgreSQL is not configured on this server').waitFor();
    await shot(page, 'error-2-postgresql-not-configured');
    await expectAccessible(page, 'the wizard: PostgreSQL not configured');
    await page.getByLabel('Embedded (PGlite)').check();
    await page.getByRole('button', { name: 'Set up with the embedded database' }).click();
    await page.getByRole('button', { name: 'Skip for now' }).click({ timeout: 120_000 });
    await page.getByRole('heading', { name: 'Done' }).waitFor();
    await shot(page, 'error-3-done');
    expect((await server.get('/api/db/status')).body).toMatchObject({ configured: true, state: 'ready' });
    await page.context().close();
  });

  it('works by keyboard alone, with visible focus; a second tab that set up too late is told the instance is set up', async () => {
    const { server, link } = await startFreshServer();
    const page = await newPage('keyboard');
    const late = await newPage('second-tab');

    // The second tab gets as far as the database choice, then waits.
    await late.goto(link);
    await late.getByRole('button', { name: 'Continue' }).click();
    await late.getByRole('heading', { name: 'Choose a database' }).waitFor();

    /** Presses Tab until the focused element's text or label matches; asserts focus is visible on the way. */
    const tabTo = async (name: RegExp) => {
      for (let presses = 0; presses < 30; presses += 1) {
        await page.keyboard.press('Tab');
        const focused = await page.evaluate<{ text: string; outline: string }>(
          `(() => { const el = document.activeElement; const style = getComputedStyle(el);
             return { text: (el.innerText || el.labels?.[0]?.innerText || '').trim(), outline: style.outlineStyle + ' ' + style.outlineWidth }; })()`,
        );
        expect(focused.outline, `focus on "${focused.text}" is not visible`).not.toMatch(/^none|\b0px$/);
        if (name.test(focused.text)) return;
      }
      throw new Error(`Tab never reached ${name}`);
    };

    await page.goto(link);
    // Tab only once the app has mounted: a key pressed before that lands on a page that is then replaced.
    await page.getByRole('heading', { name: 'Set up Groundwork' }).waitFor();
    await tabTo(/^Setup token$|^Continue$/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Choose a database' }).waitFor();
    await tabTo(/Embedded \(PGlite\)/);
    // Arrow keys move between the options of a radio group; end on the embedded database.
    await page.keyboard.press('ArrowDown');
    expect(await page.getByLabel('PostgreSQL server').isChecked()).toBe(true);
    await page.keyboard.press('ArrowUp');
    expect(await page.getByLabel('Embedded (PGlite)').isChecked()).toBe(true);
    await tabTo(/^Set up with the embedded database$/);
    await shot(page, 'keyboard-1-focus-on-set-up');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'First settings' }).waitFor({ timeout: 120_000 });
    // The step shows "Loading…" (nothing to focus) until the settings arrive.
    await page.getByRole('button', { name: 'Skip for now' }).waitFor();
    await tabTo(/^Skip for now$/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Done' }).waitFor();
    await tabTo(/^Copy$/);
    await shot(page, 'keyboard-2-done');
    await expectAccessible(page, 'the wizard: done, focus on Copy');

    // The other tab now tries: 409, said in plain words, with the way home.
    await late.getByRole('button', { name: 'Set up with the embedded database' }).click();
    await late.getByRole('heading', { name: 'Already set up' }).waitFor();
    await shot(late, 'second-tab-already-set-up');
    await expectAccessible(late, 'the wizard: already set up');
    await late.getByRole('link', { name: 'Go to the status page' }).click();
    await late.getByRole('heading', { name: 'Status' }).waitFor();
    expect((await server.get('/api/db/status')).body).toMatchObject({ configured: true, state: 'ready' });
    await Promise.all([page.context().close(), late.context().close()]);
  });
});
