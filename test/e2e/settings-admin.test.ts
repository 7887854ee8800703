/**
 * The wizard's first-settings step and the admin page, end to end in real Chromium (Debian's
 * package, driven by playwright-core) against servers started as `npm start` starts them, on
 * PostgreSQL so that a second replica can change a setting the open admin page must then show.
 * Everything is done with the keyboard alone; axe-core checks every page and state on the way, and a
 * screenshot of each lands in test/artifacts/.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { ARTIFACTS_DIR, buildWebUi, expectAccessible, launchChromium, tabTo } from '../helpers/browser.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { spawnServer, type ServerProcess } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/temp.ts';

const SETUP_LINK = /Open (http:\/\/\S+\/setup\?token=\S+) /;
const ENCRYPTION_SECRET = 'replicas-share-this-encryption-secret-e2e';
const SMTP_PASSWORD = 'Smtp-e2e-Secret-never-shown-4711';
const NEW_SMTP_PASSWORD = 'Smtp-e2e-Replaced-never-shown-0815';

interface SettingView {
  key: string;
  value?: unknown;
  is_set: boolean;
}

describe('first settings in the wizard and the admin page, in Chromium', () => {
  let browser: Browser;
  const servers: ServerProcess[] = [];
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
    await Promise.all(servers.splice(0).map((server) => server.stop()));
    await db?.drop();
    db = undefined;
    for (const folder of folders.splice(0)) folder.remove();
  });

  async function startServer(env: Record<string, string>): Promise<ServerProcess> {
    const folder = tempDir();
    folders.push(folder);
    const server = await spawnServer({ PERSISTENT_DATA_DIR: folder.path, ENCRYPTION_SECRET, ...db!.env, ...env });
    servers.push(server);
    return server;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`), fullPage: true });

  /** Every setting as the API lists it to the admin. */
  async function apiSettings(server: ServerProcess, token: string): Promise<Map<string, SettingView>> {
    const response = await fetch(`${server.url}/api/settings`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { groups: Array<{ settings: SettingView[] }> };
    return new Map(body.groups.flatMap((group) => group.settings).map((setting) => [setting.key, setting]));
  }

  /** The page's whole text and markup, input values included: a secret must be in none of it. */
  async function pageText(page: Page): Promise<string> {
    const values = await page.evaluate<string[]>(`[...document.querySelectorAll('input, textarea, select')].map((el) => el.value)`);
    return `${await page.content()}\n${values.join('\n')}`;
  }

  /** Types like a person: focus by Tab, then keys. */
  async function typeInto(page: Page, label: RegExp, text: string) {
    await tabTo(page, label);
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(text);
  }

  it('asks the first settings with the server checking them, then edits every setting on the admin page, by keyboard alone', async () => {
    db = await createTestDatabase();
    const server = await startServer({});
    await server.waitForLog(SETUP_LINK);
    const link = SETUP_LINK.exec(server.logs.find((line) => SETUP_LINK.test(line))!)![1]!;
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    onTestFailed(async () => {
      await shot(page, 'settings-FAILED').catch(() => {});
    });
    const consoleErrors: string[] = [];
    // The refused value (400) and the refused token (401) the page expects show up as failed resources; anything else is a real error.
    page.on('console', (message) => message.type() === 'error' && !/status of 40[01]/.test(message.text()) && consoleErrors.push(message.text()));

    // Token and database steps, by keyboard, each checked by axe.
    await page.goto(link);
    await page.getByRole('heading', { name: 'Welcome' }).waitFor();
    await expectAccessible(page, 'the wizard: token step');
    await tabTo(page, /^Setup token$|^Continue$/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Choose a database' }).waitFor();
    await expectAccessible(page, 'the wizard: database step');
    await tabTo(page, /Embedded \(PGlite\)/);
    await page.keyboard.press('ArrowDown');
    expect(await page.getByLabel('PostgreSQL server').isChecked()).toBe(true);
    await tabTo(page, /^Set up with PostgreSQL$/);
    await page.keyboard.press('Enter');

    // The new step: the settings to decide now, each a field generated from its definition.
    const heading = page.getByRole('heading', { name: 'First settings' });
    await heading.waitFor({ timeout: 120_000 });
    await expectAccessible(page, 'the wizard: first settings');
    await shot(page, 'settings-1-first-settings');
    expect(await page.getByLabel('Instance name').inputValue()).toBe('Groundwork');
    expect(await page.getByLabel('SMTP port').inputValue()).toBe('587');
    expect(await page.getByLabel('Connection security').inputValue()).toBe('starttls');
    expect(await page.getByLabel('SMTP password').getAttribute('type')).toBe('password');
    expect(await page.getByLabel('Send e-mail').getAttribute('type')).toBe('checkbox');
    // Only the setup settings: nothing from the security group.
    expect(await page.getByLabel('Session timeout (minutes)').count()).toBe(0);
    // On a phone in dark mode too: nothing wider than the screen, still accessible.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await expectAccessible(page, 'the wizard: first settings on a phone in dark mode');
    await shot(page, 'settings-1-first-settings-phone-dark');
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1000, height: 900 });
    await page.emulateMedia({ colorScheme: 'light' });

    await typeInto(page, /^Instance name/, 'Acme Workshop');
    await typeInto(page, /^Public URL/, 'acme.example.com'); // no scheme: the server refuses it
    await tabTo(page, /^Send e-mail$/);
    await page.keyboard.press('Space');
    await typeInto(page, /^SMTP host/, 'smtp.acme.example');
    await typeInto(page, /^SMTP port/, '2525');
    await typeInto(page, /^SMTP password/, SMTP_PASSWORD);
    await typeInto(page, /^Sender address/, 'groundwork@acme.example');
    await tabTo(page, /^Save and continue$/);
    await page.keyboard.press('Enter');

    // The server's message beside the field, the field marked invalid and focused; the mail group went through.
    const baseUrl = page.getByLabel('Public URL');
    await expect.poll(() => baseUrl.getAttribute('aria-invalid')).toBe('true');
    const errorId = 'setting-general-base_url-error';
    expect(await baseUrl.getAttribute('aria-describedby')).toContain(errorId);
    expect(await page.locator(`#${errorId}`).innerText()).toBe('Public URL must be a web address starting with http:// or https://, e.g. https://groundwork.example.com.');
    expect(await page.evaluate('document.activeElement.id')).toBe('setting-general-base_url');
    expect(await page.getByRole('alert').first().innerText()).toMatch(/One setting needs fixing/);
    expect(await pageText(page)).not.toContain(SMTP_PASSWORD);
    await expectAccessible(page, 'the wizard: first settings with a refused value');
    await shot(page, 'settings-2-first-settings-invalid');

    // Fixed (focus is already in the field), then on to Done.
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('https://acme.example.com');
    await tabTo(page, /^Save and continue$/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Done' }).waitFor();
    await expectAccessible(page, 'the wizard: done');
    await shot(page, 'settings-3-done');
    const adminToken = await page.getByLabel('Admin token').inputValue();

    // Read back through the API: what was typed, the secret only as "set".
    let settings = await apiSettings(server, adminToken);
    expect(settings.get('general.instance_name')).toMatchObject({ value: 'Acme Workshop', is_set: true });
    expect(settings.get('general.base_url')).toMatchObject({ value: 'https://acme.example.com', is_set: true });
    expect(settings.get('mail.host')).toMatchObject({ value: 'smtp.acme.example', is_set: true });
    expect(settings.get('mail.port')).toMatchObject({ value: 2525, is_set: true });
    expect(settings.get('mail.enabled')).toMatchObject({ value: true, is_set: true });
    expect(settings.get('mail.security')).toMatchObject({ value: 'starttls', is_set: false });
    expect(settings.get('mail.password')).toEqual(expect.objectContaining({ is_set: true }));
    expect(settings.get('mail.password')).not.toHaveProperty('value');

    // The status page links to the admin page.
    await tabTo(page, /^status page$/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Status' }).waitFor();
    await expectAccessible(page, 'the status page');
    await tabTo(page, /^open the admin page$/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Administration' }).waitFor();

    // The wizard's token is in this tab's sessionStorage; a token the server rejects asks again.
    await page.getByRole('heading', { name: 'Mail (SMTP)' }).waitFor();
    expect(await page.evaluate('[sessionStorage.length, localStorage.length]')).toEqual([1, 0]);
    await page.evaluate(`sessionStorage.setItem('groundwork.adminToken', 'gwa_not-the-token')`);
    await page.reload();
    await page.getByText('That admin token was not accepted.').waitFor();
    await expectAccessible(page, 'the admin page: token refused');
    await shot(page, 'admin-1-token-refused');
    await typeInto(page, /^Admin token$/, adminToken);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Mail (SMTP)' }).waitFor();
    expect(await page.evaluate(`sessionStorage.getItem('groundwork.adminToken')`)).toBe(adminToken);

    // Every group, each setting a typed field saying who set it; plugins, migrations, the database.
    for (const group of ['General', 'Mail (SMTP)', 'Security', 'Plugins', 'Database', 'Migrations']) {
      await page.getByRole('heading', { name: group, exact: true }).waitFor();
    }
    expect(await page.locator('#setting-general-instance_name-origin').innerText()).toBe('Set by you');
    expect(await page.locator('#setting-security-session_timeout_minutes-origin').innerText()).toBe('Default');
    expect(await page.locator('#setting-mail-password-origin').innerText()).toBe('Set');
    expect(await page.getByLabel('SMTP password').inputValue()).toBe('');
    expect(await page.locator('.facts').last().innerText()).toMatch(new RegExp(`Type\\s+PostgreSQL server\\s+Location\\s+\\S+:${db.env.POSTGRES_PORT}/${db.env.POSTGRES_DATABASE}`));
    await page.getByText('notes_notes', { exact: true }).waitFor();
    expect(await pageText(page)).not.toContain(db.env.POSTGRES_PASSWORD);
    await expectAccessible(page, 'the admin page');
    await shot(page, 'admin-2-page');

    // A refused value in a group: the message beside the field, nothing saved.
    await typeInto(page, /^Session timeout \(minutes\)/, '2');
    await tabTo(page, /^Save Security$/);
    await page.keyboard.press('Enter');
    await page.locator('#setting-security-session_timeout_minutes-error').getByText('Session timeout (minutes) must be at least 5.').waitFor();
    expect(await page.getByLabel('Session timeout (minutes)').getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page, 'the admin page with a refused value');
    await shot(page, 'admin-3-refused-value');
    expect((await apiSettings(server, adminToken)).get('security.session_timeout_minutes')).toMatchObject({ value: 60, is_set: false });

    // Fixed (focus went to the field to fix) and saved: read back through the API and after a reload.
    expect(await page.evaluate('document.activeElement.id')).toBe('setting-security-session_timeout_minutes');
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('90');
    await tabTo(page, /^Save Security$/);
    await page.keyboard.press('Enter');
    await page.getByText('Saved Security.').waitFor();
    expect((await apiSettings(server, adminToken)).get('security.session_timeout_minutes')).toMatchObject({ value: 90, is_set: true });
    await page.reload();
    await page.getByRole('heading', { name: 'Security', exact: true }).waitFor();
    expect(await page.getByLabel('Session timeout (minutes)').inputValue()).toBe('90');
    expect(await page.locator('#setting-security-session_timeout_minutes-origin').innerText()).toBe('Set by you');

    // The SMTP password replaced: never displayed, only "Set".
    await typeInto(page, /^SMTP password/, NEW_SMTP_PASSWORD);
    await tabTo(page, /^Save Mail \(SMTP\)$/);
    await page.keyboard.press('Enter');
    await page.getByText('Saved Mail (SMTP).').waitFor();
    expect(await page.getByLabel('SMTP password').inputValue()).toBe('');
    expect(await page.locator('#setting-mail-password-origin').innerText()).toBe('Set');
    const text = await pageText(page);
    expect(text).not.toContain(NEW_SMTP_PASSWORD);
    expect(text).not.toContain(SMTP_PASSWORD);
    settings = await apiSettings(server, adminToken);
    expect(settings.get('mail.password')).toEqual(expect.objectContaining({ is_set: true }));
    expect(JSON.stringify([...settings.values()])).not.toContain(NEW_SMTP_PASSWORD);
    await shot(page, 'admin-4-secret-set');

    // A change made on another replica shows on the open page without a reload.
    const replica = await startServer({});
    await replica.waitForStatus((status) => status.state === 'ready', 60_000);
    const changed = await fetch(`${replica.url}/api/settings/general.instance_name`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: 'Acme from the other replica' }),
    });
    expect(changed.status).toBe(200);
    await expect.poll(() => page.getByLabel('Instance name').inputValue(), { timeout: 15_000 }).toBe('Acme from the other replica');
    await shot(page, 'admin-5-changed-on-another-replica');

    // Reset to default, by keyboard: back to 60, marked as the default, and so through the API.
    await tabTo(page, /^Reset to default \(Session timeout \(minutes\)\)$/, 80);
    await page.keyboard.press('Enter');
    await page.getByText('Session timeout (minutes) is back to its default.').waitFor();
    expect(await page.getByLabel('Session timeout (minutes)').inputValue()).toBe('60');
    expect(await page.locator('#setting-security-session_timeout_minutes-origin').innerText()).toBe('Default');
    expect((await apiSettings(server, adminToken)).get('security.session_timeout_minutes')).toMatchObject({ value: 60, is_set: false });
    await expectAccessible(page, 'the admin page after a reset');
    await shot(page, 'admin-6-reset');

    // On a phone, in dark mode: nothing wider than the screen, still accessible.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await expectAccessible(page, 'the admin page on a phone in dark mode');
    await shot(page, 'admin-7-phone-dark');
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    expect(consoleErrors).toEqual([]);
    await context.close();
  });
});
