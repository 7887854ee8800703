import { enableAutoUnmount, flushPromises, mount } from '@vue/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryHistory, createRouter } from 'vue-router';
import StatusView from '../src/views/StatusView.vue';
import { mockFetch, UNCONFIGURED, type FetchCall } from './fetch-mock';

const READY = { configured: true, initialized: true, dialect: 'postgresql', type: 'pglite', state: 'ready' };
const MIGRATIONS = { applied: ['0000_initial', '0001_settings', '0002_plugins'], pending: [] };
const GROUPS = {
  groups: [
    {
      id: 'mail',
      name: 'Mail',
      description: 'How the server sends mail.',
      sortOrder: 0,
      settings: [
        { key: 'mail.host', group: 'mail', name: 'host', description: 'SMTP host', type: 'string', encrypted: false, required: true, is_set: true, value: 'smtp.example.com', default: '' },
        { key: 'mail.password', group: 'mail', name: 'password', description: 'SMTP password', type: 'string', encrypted: true, required: false, is_set: true },
      ],
    },
    { id: 'site', name: 'Site', description: 'The public site.', sortOrder: 1, settings: [] },
  ],
};
const PLUGINS = {
  plugins: [
    { id: 'notes', name: 'Notes', version: '1.2.0', status: 'active', tables: ['plugin_notes_notes', 'plugin_notes_tags'], error: null, ddl_statements: 0 },
    { id: 'broken', name: 'Broken', version: '0.1.0', status: 'failed', tables: [], error: 'relation "x" already exists', ddl_statements: 0 },
  ],
};
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
      case '/api/db/status':
        return { status: 200, body: READY };
      case '/api/db/migrations':
        return { status: 200, body: MIGRATIONS };
      case '/api/settings':
        return admin ? { status: 200, body: GROUPS } : INVALID_TOKEN;
      case '/api/plugins':
        return admin ? { status: 200, body: PLUGINS } : INVALID_TOKEN;
      default:
        return { status: 404, body: { error: 'not_found', message: 'Not found.' } };
    }
  });
}

async function mountStatus() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', component: StatusView },
      { path: '/setup', component: { template: '<p>setup</p>' } },
    ],
  });
  await router.push('/');
  await router.isReady();
  const wrapper = mount({ template: '<RouterView />' }, { global: { plugins: [router] }, attachTo: document.body });
  await flushPromises();
  return wrapper;
}

type Wrapper = Awaited<ReturnType<typeof mountStatus>>;

async function enterToken(wrapper: Wrapper, token: string) {
  await wrapper.get('#admin-token-field').setValue(token);
  await wrapper.get('#admin-heading + form').trigger('submit');
  await flushPromises();
}

const adminCalls = (calls: FetchCall[]) => calls.filter((call) => call.url === '/api/settings' || call.url === '/api/plugins');
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

describe('StatusView', () => {
  it('lists the applied migrations once the database is ready', async () => {
    server();
    const wrapper = await mountStatus();
    const migrations = wrapper.get('section[aria-labelledby="migrations-heading"]');
    expect(migrations.get('summary').text()).toBe('3 migrations applied');
    expect(migrations.findAll('li').map((item) => item.text())).toEqual(MIGRATIONS.applied);
    expect(migrations.find('.warning').exists()).toBe(false);
  });

  it('warns about pending migrations', async () => {
    server({ '/api/db/migrations': () => ({ status: 200, body: { applied: ['0000_initial'], pending: ['0001_settings'] } }) });
    const wrapper = await mountStatus();
    expect(wrapper.get('summary').text()).toBe('1 migration applied');
    expect(wrapper.get('.warning').text()).toContain('1 migration of this release not applied yet');
    expect(wrapper.get('.warning').text()).toContain('0001_settings');
  });

  it('says when a newer release has migrated the database (a rolling upgrade)', async () => {
    const unknown = ['unknown (generated 2026-11-26T10:00:00.000Z, hash 0123456789ab)'];
    server({ '/api/db/migrations': () => ({ status: 200, body: { applied: ['0000_initial', ...unknown], pending: [], unknown, schema: 'ahead' } }) });
    const wrapper = await mountStatus();
    expect(wrapper.get('.warning').text()).toContain('A newer release has migrated this database');
  });

  it('asks for nothing but the status before the database is ready', async () => {
    const calls = server({ '/api/db/status': () => ({ status: 200, body: UNCONFIGURED }) });
    sessionStorage.setItem(TOKEN_KEY, 'gwa_good');
    const wrapper = await mountStatus();
    expect(calls.map((call) => call.url)).toEqual(['/api/db/status']);
    expect(wrapper.find('#admin-heading').exists()).toBe(false);
    expect(wrapper.text()).toContain('Set up the database');
  });

  it('fetches nothing admin-related without a token, and offers a labelled password field', async () => {
    const calls = server();
    const wrapper = await mountStatus();
    expect(adminCalls(calls)).toEqual([]);
    const input = wrapper.get('#admin-token-field');
    expect(wrapper.get('label[for="admin-token-field"]').text()).toBe('Admin token');
    expect(input.attributes('type')).toBe('password');
    expect(input.attributes('autocomplete')).toBe('off');
    expect(button(wrapper, 'Forget token')).toBeUndefined();
  });

  it('asks for a token before calling the server', async () => {
    const calls = server();
    const wrapper = await mountStatus();
    await enterToken(wrapper, '   ');
    expect(wrapper.get('[role="alert"]').text()).toBe('Enter the admin token first.');
    expect(wrapper.get('#admin-token-field').attributes('aria-invalid')).toBe('true');
    expect(adminCalls(calls)).toEqual([]);
  });

  it('keeps an accepted token in sessionStorage only and shows the settings groups and plugins', async () => {
    const calls = server();
    const wrapper = await mountStatus();
    await enterToken(wrapper, ' gwa_good ');

    expect(adminCalls(calls).map((call) => [call.url, call.headers.authorization])).toEqual([
      ['/api/settings', 'Bearer gwa_good'],
      ['/api/plugins', 'Bearer gwa_good'],
    ]);
    expect(calls.every((call) => !call.url.includes('gwa_good'))).toBe(true);
    expect(sessionStorage.getItem(TOKEN_KEY)).toBe('gwa_good');
    expect(localStorage.length).toBe(0);
    expect(wrapper.find('#admin-token-field').exists()).toBe(false);
    expect(document.activeElement?.id).toBe('admin-heading');

    const groups = wrapper.findAll('.settings-group');
    expect(groups.map((group) => group.find('strong').text())).toEqual(['Mail', 'Site']);
    expect(groups[0]!.text()).toContain('mail');
    expect(groups[0]!.text()).toContain('How the server sends mail.');
    expect(groups[0]!.get('summary').text()).toBe('2 settings');
    expect(groups[0]!.text()).toContain('mail.password (string, secret, set)');
    expect(groups[1]!.text()).toContain('No settings.');

    const plugins = wrapper.findAll('.plugin');
    expect(plugins[0]!.text()).toContain('Notes 1.2.0');
    expect(plugins[0]!.text()).toContain('Status: active');
    expect(plugins[0]!.findAll('li').map((item) => item.text())).toEqual(['plugin_notes_notes', 'plugin_notes_tags']);
    expect(plugins[1]!.text()).toContain('Status: failed');
    expect(plugins[1]!.get('p.error').text()).toBe('It failed: relation "x" already exists');
  });

  it('uses a token already in sessionStorage without asking again', async () => {
    sessionStorage.setItem(TOKEN_KEY, 'gwa_good');
    const calls = server();
    const wrapper = await mountStatus();
    expect(adminCalls(calls)).toHaveLength(2);
    expect(wrapper.findAll('.plugin')).toHaveLength(2);
    expect(button(wrapper, 'Forget token')).toBeDefined();
  });

  it('does not store a token the server rejects, and says so beside the form', async () => {
    server();
    const wrapper = await mountStatus();
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
    server({ '/api/settings': () => ({ status: 200, body: GROUPS }), '/api/plugins': () => INVALID_TOKEN });
    const wrapper = await mountStatus();
    expect(sessionStorage.getItem(TOKEN_KEY)).toBeNull();
    expect(wrapper.get('[role="alert"]').text()).toMatch(/^That admin token was not accepted\./);
    expect(wrapper.find('#admin-token-field').exists()).toBe(true);
    expect(wrapper.find('.settings-group').exists()).toBe(false);
  });

  it('forgets the token on request and puts focus back in the field', async () => {
    sessionStorage.setItem(TOKEN_KEY, 'gwa_good');
    const calls = server();
    const wrapper = await mountStatus();
    const forget = button(wrapper, 'Forget token')!;
    (forget.element as HTMLButtonElement).focus();
    await forget.trigger('click');
    await flushPromises();
    expect(sessionStorage.getItem(TOKEN_KEY)).toBeNull();
    expect(wrapper.find('.plugin').exists()).toBe(false);
    expect(wrapper.find('[role="alert"]').exists()).toBe(false);
    expect(document.activeElement?.id).toBe('admin-token-field');

    // Nothing admin-related is asked for on later polls.
    const before = adminCalls(calls).length;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(adminCalls(calls)).toHaveLength(before);
  });

  it('refreshes migrations, settings and plugins with the polling, keeping the last data on other errors', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    sessionStorage.setItem(TOKEN_KEY, 'gwa_good');
    let pluginsDown = false;
    const calls = server({
      '/api/plugins': () => (pluginsDown ? { status: 503, body: { error: 'database_unavailable', message: 'The database is not answering.' } } : { status: 200, body: PLUGINS }),
    });
    const wrapper = await mountStatus();
    const count = (url: string) => calls.filter((call) => call.url === url).length;
    expect([count('/api/db/migrations'), count('/api/settings'), count('/api/plugins')]).toEqual([1, 1, 1]);

    pluginsDown = true;
    await vi.advanceTimersByTimeAsync(10_000); // five polls of 2 s
    expect(count('/api/db/status')).toBe(6);
    expect([count('/api/db/migrations'), count('/api/settings'), count('/api/plugins')]).toEqual([2, 2, 2]);
    expect(wrapper.get('[role="alert"]').text()).toBe('Could not load the settings and plugins. The database is not answering.');
    expect(wrapper.findAll('.plugin')).toHaveLength(2);
    expect(sessionStorage.getItem(TOKEN_KEY)).toBe('gwa_good');
  });
});
