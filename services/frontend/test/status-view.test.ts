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
      { path: '/admin', component: { template: '<p>admin</p>' } },
    ],
  });
  await router.push('/');
  await router.isReady();
  const wrapper = mount({ template: '<RouterView />' }, { global: { plugins: [router] }, attachTo: document.body });
  await flushPromises();
  return wrapper;
}

const adminCalls = (calls: FetchCall[]) => calls.filter((call) => call.url === '/api/settings' || call.url === '/api/plugins');

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

  it('links to the admin page and asks for nothing admin-related itself', async () => {
    sessionStorage.setItem(TOKEN_KEY, 'gwa_good');
    const calls = server();
    const wrapper = await mountStatus();
    expect(adminCalls(calls)).toEqual([]);
    expect(wrapper.get('section[aria-labelledby="admin-link-heading"] a').attributes('href')).toBe('/admin');
  });
});
