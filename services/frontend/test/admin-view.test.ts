import { enableAutoUnmount, flushPromises, mount } from '@vue/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryHistory, createRouter } from 'vue-router';
import AdminView from '../src/views/AdminView.vue';
import { mockFetch, type FetchCall } from './fetch-mock';

const MIGRATIONS = { applied: ['0000_initial', '0001_settings'], pending: [] };
const setting = (key: string, extra: Record<string, unknown>) => ({
  key, group: 'mail', name: key, description: `About ${key}.`, type: 'string', encrypted: false, required: false, setup: true, is_set: false, value: null, default: null, ...extra,
});
function mailGroup(overrides: Record<string, Record<string, unknown>> = {}) {
  return {
    id: 'mail',
    name: 'Mail',
    description: 'How the server sends mail.',
    sortOrder: 0,
    settings: [
      setting('mail.host', { name: 'SMTP host', is_set: true, value: 'smtp.example.com', ...overrides['mail.host'] }),
      setting('mail.port', { name: 'SMTP port', type: 'number', required: true, value: 587, default: 587, validation: { integer: true, min: 1, max: 65535 }, ...overrides['mail.port'] }),
      setting('mail.enabled', { name: 'Send e-mail', type: 'boolean', value: false, default: false, ...overrides['mail.enabled'] }),
      setting('mail.security', { name: 'Connection security', required: true, value: 'starttls', default: 'starttls', validation: { enum: ['starttls', 'tls', 'none'] } }),
      setting('mail.password', { name: 'SMTP password', encrypted: true, is_set: true, value: undefined, default: undefined, ...overrides['mail.password'] }),
    ],
  };
}
const SITE = { id: 'site', name: 'Site', description: 'The public site.', sortOrder: 1, settings: [] };
const PLUGINS = {
  plugins: [
    { id: 'notes', name: 'Notes', version: '1.2.0', status: 'active', tables: ['plugin_notes_notes', 'plugin_notes_tags'], error: null, ddl_statements: 0 },
    { id: 'broken', name: 'Broken', version: '0.1.0', status: 'failed', tables: [], error: 'relation "x" already exists', ddl_statements: 0 },
  ],
};
const LOCATION = { type: 'postgresql', location: 'db.internal:5432/groundwork' };
const INVALID_TOKEN = { status: 401, body: { error: 'invalid_admin_token', message: 'The admin token is wrong or was revoked.' } };
const TOKEN_KEY = 'groundwork.adminToken';

type Answer = { status: number; body: unknown };

/** A ready server that accepts the admin token `gwa_good`; `overrides` replace answers by URL. */
function server(overrides: Record<string, (call: FetchCall) => Answer> = {}) {
  return mockFetch((call) => {
    const override = overrides[call.url];
    if (override) return override(call);
    const admin = call.headers.authorization === 'Bearer gwa_good';
    switch (call.url) {
      case '/api/db/migrations':
        return { status: 200, body: MIGRATIONS };
      case '/api/settings':
        return admin ? { status: 200, body: { groups: [mailGroup(), SITE] } } : INVALID_TOKEN;
      case '/api/plugins':
        return admin ? { status: 200, body: PLUGINS } : INVALID_TOKEN;
      case '/api/db/location':
        return admin ? { status: 200, body: LOCATION } : INVALID_TOKEN;
      case '/api/settings/groups/mail':
        return admin ? { status: 200, body: mailGroup() } : INVALID_TOKEN;
      default:
        return { status: 404, body: { error: 'not_found', message: 'Not found.' } };
    }
  });
}

async function mountAdmin() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', component: { template: '<p>status</p>' } },
      { path: '/admin', component: AdminView },
    ],
  });
  await router.push('/admin');
  await router.isReady();
  const wrapper = mount({ template: '<RouterView />' }, { global: { plugins: [router] }, attachTo: document.body });
  await flushPromises();
  return wrapper;
}

type Wrapper = Awaited<ReturnType<typeof mountAdmin>>;

async function enterToken(wrapper: Wrapper, token: string) {
  await wrapper.get('#admin-token-field').setValue(token);
  await wrapper.get('#admin-heading + form').trigger('submit');
  await flushPromises();
}

const ADMIN_URLS = ['/api/settings', '/api/plugins', '/api/db/location'];
const adminCalls = (calls: FetchCall[]) => calls.filter((call) => ADMIN_URLS.includes(call.url));
const button = (wrapper: Wrapper, text: string) => wrapper.findAll('button').find((candidate) => candidate.text() === text);

beforeEach(() => {
  sessionStorage.clear();
  localStorage.clear();
});

// A view left mounted keeps polling: its calls would land in the next test's counts (or on a real socket).
enableAutoUnmount(afterEach);

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  document.body.innerHTML = '';
});

describe('AdminView', () => {
  it('fetches nothing admin-related without a token, and offers a labelled password field', async () => {
    const calls = server();
    const wrapper = await mountAdmin();
    expect(adminCalls(calls)).toEqual([]);
    const input = wrapper.get('#admin-token-field');
    expect(wrapper.get('label[for="admin-token-field"]').text()).toBe('Admin token');
    expect(input.attributes('type')).toBe('password');
    expect(input.attributes('autocomplete')).toBe('off');
    expect(button(wrapper, 'Forget token')).toBeUndefined();
  });

  it('asks for a token before calling the server', async () => {
    const calls = server();
    const wrapper = await mountAdmin();
    await enterToken(wrapper, '   ');
    expect(wrapper.get('[role="alert"]').text()).toBe('Enter the admin token first.');
    expect(wrapper.get('#admin-token-field').attributes('aria-invalid')).toBe('true');
    expect(adminCalls(calls)).toEqual([]);
  });

  it('keeps an accepted token in sessionStorage only; shows each setting as a typed field, plugins and the database', async () => {
    const calls = server();
    const wrapper = await mountAdmin();
    await enterToken(wrapper, ' gwa_good ');

    expect(adminCalls(calls).map((call) => [call.url, call.headers.authorization])).toEqual(ADMIN_URLS.map((url) => [url, 'Bearer gwa_good']));
    expect(calls.every((call) => !call.url.includes('gwa_good'))).toBe(true);
    expect(sessionStorage.getItem(TOKEN_KEY)).toBe('gwa_good');
    expect(localStorage.length).toBe(0);
    expect(wrapper.find('#admin-token-field').exists()).toBe(false);
    expect(document.activeElement?.id).toBe('admin-heading');

    expect(wrapper.findAll('.settings-group h3').map((heading) => heading.text())).toEqual(['Mail', 'Site']);
    expect(wrapper.get<HTMLInputElement>('#setting-mail-host').element.value).toBe('smtp.example.com');
    expect(wrapper.get('#setting-mail-host-origin').text()).toBe('Set by you');
    expect(wrapper.get('#setting-mail-port-origin').text()).toBe('Default');
    expect(wrapper.get('#setting-mail-enabled').attributes('type')).toBe('checkbox');
    expect(wrapper.findAll('#setting-mail-security option').map((option) => option.text())).toEqual(['starttls', 'tls', 'none']);
    const password = wrapper.get<HTMLInputElement>('#setting-mail-password');
    expect(password.attributes('type')).toBe('password');
    expect(password.element.value).toBe('');
    expect(wrapper.get('#setting-mail-password-origin').text()).toBe('Set');
    expect(wrapper.get('label[for="setting-mail-port"]').text()).toBe('SMTP port (required)');
    expect(wrapper.get('#setting-mail-port').attributes('aria-describedby')).toBe('setting-mail-port-hint setting-mail-port-origin');

    const plugins = wrapper.findAll('.plugin');
    expect(plugins[0]!.text()).toContain('Notes 1.2.0');
    expect(plugins[0]!.findAll('li').map((item) => item.text())).toEqual(['plugin_notes_notes', 'plugin_notes_tags']);
    expect(plugins[1]!.get('p.error').text()).toBe('It failed: relation "x" already exists');
    expect(wrapper.get('section[aria-labelledby="database-heading"]').text()).toMatch(/Type\s*PostgreSQL server\s*Location\s*db\.internal:5432\/groundwork/);
    expect(wrapper.get('section[aria-labelledby="migrations-heading"] summary').text()).toBe('2 migrations applied');
  });

  it('saves only the changed fields of a group, a secret as typed and never shown, and shows the server\'s words beside a refused field', async () => {
    sessionStorage.setItem(TOKEN_KEY, 'gwa_good');
    let refuse = true;
    const calls = server({
      '/api/settings/groups/mail': () =>
        refuse
          ? { status: 400, body: { error: 'invalid_setting_value', message: 'Nothing was saved: mail.port must be at most 65535.', fields: { 'mail.port': 'mail.port must be at most 65535.' } } }
          : { status: 200, body: mailGroup({ 'mail.port': { value: 2525, is_set: true } }) },
    });
    const wrapper = await mountAdmin();
    await wrapper.get('#setting-mail-port').setValue('70000');
    await wrapper.get('#setting-mail-password').setValue('new-secret');
    await wrapper.get('.settings-group form').trigger('submit');
    await flushPromises();
    const puts = () => calls.filter((call) => call.method === 'PUT');
    expect(puts().map((call) => [call.url, call.body])).toEqual([['/api/settings/groups/mail', { values: { 'mail.port': 70000, 'mail.password': 'new-secret' } }]]);
    expect(wrapper.get('#setting-mail-port-error').text()).toBe('SMTP port must be at most 65535.');
    expect(wrapper.get('#setting-mail-port').attributes('aria-invalid')).toBe('true');
    expect(document.activeElement?.id).toBe('setting-mail-port');

    refuse = false;
    await wrapper.get('#setting-mail-port').setValue('2525');
    await wrapper.get('.settings-group form').trigger('submit');
    await flushPromises();
    expect(puts()[1]!.body).toEqual({ values: { 'mail.port': 2525, 'mail.password': 'new-secret' } });
    expect(wrapper.find('#setting-mail-port-error').exists()).toBe(false);
    expect(wrapper.get('#setting-mail-port-origin').text()).toBe('Set by you');
    expect(wrapper.get<HTMLInputElement>('#setting-mail-password').element.value).toBe('');
    expect(wrapper.html()).not.toContain('new-secret');
    expect(wrapper.text()).toContain('Saved Mail.');
  });

  it('resets a setting to its default (null) and clears a secret', async () => {
    sessionStorage.setItem(TOKEN_KEY, 'gwa_good');
    const calls = server();
    const wrapper = await mountAdmin();
    await button(wrapper, 'Reset to default (SMTP host)')!.trigger('click');
    await flushPromises();
    await button(wrapper, 'Clear (SMTP password)')!.trigger('click');
    await flushPromises();
    expect(calls.filter((call) => call.method === 'PUT').map((call) => call.body)).toEqual([
      { values: { 'mail.host': null } },
      { values: { 'mail.password': null } },
    ]);
  });

  it('follows changes made elsewhere with its polling, but keeps what is being typed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    sessionStorage.setItem(TOKEN_KEY, 'gwa_good');
    let group = mailGroup();
    server({ '/api/settings': () => ({ status: 200, body: { groups: [group, SITE] } }) });
    const wrapper = await mountAdmin();
    await wrapper.get('#setting-mail-port').setValue('2600'); // being edited
    group = mailGroup({ 'mail.host': { value: 'smtp.elsewhere.example' }, 'mail.port': { value: 465, is_set: true } });
    await vi.advanceTimersByTimeAsync(3_000);
    await flushPromises();
    expect(wrapper.get<HTMLInputElement>('#setting-mail-host').element.value).toBe('smtp.elsewhere.example');
    expect(wrapper.get<HTMLInputElement>('#setting-mail-port').element.value).toBe('2600');
  });

  it('uses a token already in sessionStorage without asking again', async () => {
    sessionStorage.setItem(TOKEN_KEY, 'gwa_good');
    const calls = server();
    const wrapper = await mountAdmin();
    expect(adminCalls(calls)).toHaveLength(3);
    expect(wrapper.findAll('.plugin')).toHaveLength(2);
    expect(button(wrapper, 'Forget token')).toBeDefined();
  });

  it('does not store a token the server rejects, and says so beside the form', async () => {
    server();
    const wrapper = await mountAdmin();
    await enterToken(wrapper, 'gwa_wrong');
    expect(sessionStorage.getItem(TOKEN_KEY)).toBeNull();
    const alert = wrapper.get('#admin-token-error');
    expect(alert.attributes('role')).toBe('alert');
    expect(alert.text()).toMatch(/^That admin token was not accepted\./);
    expect(wrapper.get('#admin-token-field').attributes('aria-describedby')).toContain('admin-token-error');
    expect(wrapper.find('.plugin').exists()).toBe(false);
  });

  it('clears a stored token that gets 401 and shows the form with the reason', async () => {
    sessionStorage.setItem(TOKEN_KEY, 'gwa_revoked');
    server({ '/api/settings': () => ({ status: 200, body: { groups: [mailGroup()] } }), '/api/plugins': () => INVALID_TOKEN });
    const wrapper = await mountAdmin();
    expect(sessionStorage.getItem(TOKEN_KEY)).toBeNull();
    expect(wrapper.get('[role="alert"]').text()).toMatch(/^That admin token was not accepted\./);
    expect(wrapper.find('#admin-token-field').exists()).toBe(true);
    expect(wrapper.find('.settings-group').exists()).toBe(false);
  });

  it('forgets the token on request and puts focus back in the field', async () => {
    sessionStorage.setItem(TOKEN_KEY, 'gwa_good');
    const calls = server();
    const wrapper = await mountAdmin();
    const forget = button(wrapper, 'Forget token')!;
    (forget.element as HTMLButtonElement).focus();
    await forget.trigger('click');
    await flushPromises();
    expect(sessionStorage.getItem(TOKEN_KEY)).toBeNull();
    expect(wrapper.find('.plugin').exists()).toBe(false);
    expect(document.activeElement?.id).toBe('admin-token-field');

    // Nothing admin-related is asked for on later polls.
    const before = adminCalls(calls).length;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(adminCalls(calls)).toHaveLength(before);
  });

  it('keeps the last data on screen when a refresh fails for another reason', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    sessionStorage.setItem(TOKEN_KEY, 'gwa_good');
    let pluginsDown = false;
    server({
      '/api/plugins': () => (pluginsDown ? { status: 503, body: { error: 'database_unavailable', message: 'The database is not answering.' } } : { status: 200, body: PLUGINS }),
    });
    const wrapper = await mountAdmin();
    pluginsDown = true;
    await vi.advanceTimersByTimeAsync(3_000);
    await flushPromises();
    expect(wrapper.get('[role="alert"]').text()).toBe('Could not load the settings, plugins and database. The database is not answering.');
    expect(wrapper.findAll('.plugin')).toHaveLength(2);
    expect(sessionStorage.getItem(TOKEN_KEY)).toBe('gwa_good');
  });
});
