import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryHistory, createRouter } from 'vue-router';
import SetupView from '../src/views/SetupView.vue';
import { mockFetch, PHASES, UNCONFIGURED, type FetchCall } from './fetch-mock';

const ENVIRONMENT = { postgresql: { configured: true, host: 'db.internal', port: 5432, database: 'groundwork', user: 'app', ssl: false } };
const RESULT = { message: 'The embedded PGlite database is set up and ready.', restart_required: false, database_type: 'pglite', admin_token: 'gwa_once' };

const setting = (key: string, extra: Record<string, unknown>) => ({
  key, group: key.split('.')[0], name: key, description: `About ${key}.`, type: 'string', encrypted: false, required: false, setup: false, is_set: false, value: null, default: null, ...extra,
});
const GENERAL = {
  id: 'general', name: 'General', description: 'The basics.', sortOrder: 10,
  settings: [
    setting('general.instance_name', { name: 'Instance name', setup: true, required: true, value: 'Groundwork', default: 'Groundwork' }),
    setting('general.base_url', { name: 'Public URL', setup: true }),
    setting('general.maintenance_mode', { name: 'Maintenance mode', type: 'boolean', value: false, default: false }),
  ],
};
const MAIL = {
  id: 'mail', name: 'Mail', description: 'Sending mail.', sortOrder: 20,
  settings: [
    setting('mail.password', { name: 'SMTP password', setup: true, encrypted: true, value: undefined, default: undefined }),
    setting('mail.relay_key', { name: 'Relay key', required: true }), // required without a default: asked too
  ],
};
const GROUPS = { groups: [GENERAL, MAIL] };

async function mountAt(url: string) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', component: { template: '<p>status</p>' } },
      { path: '/setup', component: SetupView },
    ],
  });
  await router.push(url);
  await router.isReady();
  const wrapper = mount({ template: '<RouterView />' }, { global: { plugins: [router] }, attachTo: document.body });
  await flushPromises();
  return Object.assign(wrapper, { router });
}

const currentStep = (wrapper: Awaited<ReturnType<typeof mountAt>>) => wrapper.get('[aria-current="step"]').text();

function server(overrides: Partial<Record<string, (call: FetchCall) => { status: number; body: unknown }>> = {}) {
  return mockFetch((call) => {
    const override = overrides[call.url];
    if (override) return override(call);
    if (call.url === '/api/db/environment') return { status: 200, body: ENVIRONMENT };
    if (call.url === '/api/db/setup') return { status: 200, body: RESULT };
    if (call.url === '/api/db/setup/phases') return { status: 200, body: PHASES };
    if (call.url === '/api/settings') return { status: 200, body: GROUPS };
    if (call.url.startsWith('/api/settings/groups/')) return { status: 200, body: call.url.endsWith('general') ? GENERAL : MAIL };
    return { status: 200, body: UNCONFIGURED };
  });
}

afterEach(() => {
  sessionStorage.clear();
  vi.unstubAllGlobals();
  document.body.innerHTML = '';
});

describe('SetupView', () => {
  it('goes from the token in the link to the first settings and the admin token in five steps', async () => {
    const calls = server();
    const wrapper = await mountAt('/setup?token=from-the-log');
    expect(currentStep(wrapper)).toContain('Setup token');
    expect(wrapper.get<HTMLInputElement>('#setup-token').element.value).toBe('from-the-log');

    await wrapper.get('form').trigger('submit');
    await flushPromises();
    expect(calls.find((call) => call.url === '/api/db/environment')?.headers['x-setup-token']).toBe('from-the-log');
    expect(currentStep(wrapper)).toContain('Database');
    expect(document.activeElement?.id).toBe('database-heading');

    await wrapper.get('form').trigger('submit'); // embedded database is the default
    await flushPromises();
    expect(calls.find((call) => call.url === '/api/db/setup')?.body).toEqual({ type: 'pglite' });

    // The first settings, read and saved with the admin token setup returned, kept in sessionStorage only.
    expect(currentStep(wrapper)).toContain('Settings');
    expect(sessionStorage.getItem('groundwork.adminToken')).toBe('gwa_once');
    expect(calls.find((call) => call.url === '/api/settings')?.headers.authorization).toBe('Bearer gwa_once');
    expect(wrapper.findAll('fieldset legend').map((legend) => legend.text())).toEqual(['General', 'Mail']);
    expect(wrapper.find('#setting-general-maintenance_mode').exists()).toBe(false);
    expect(wrapper.find('#setting-mail-relay_key').exists()).toBe(true);
    expect(wrapper.get('#setting-mail-password').attributes('type')).toBe('password');
    await wrapper.get('#setting-general-instance_name').setValue('Acme');
    await wrapper.get('#setting-mail-password').setValue('s3cret-value');
    await wrapper.get('form').trigger('submit');
    await flushPromises();
    const puts = calls.filter((call) => call.method === 'PUT');
    expect(puts.map((call) => [call.url, call.headers.authorization, call.body])).toEqual([
      ['/api/settings/groups/general', 'Bearer gwa_once', { values: { 'general.instance_name': 'Acme' } }],
      ['/api/settings/groups/mail', 'Bearer gwa_once', { values: { 'mail.password': 's3cret-value' } }],
    ]);

    expect(currentStep(wrapper)).toContain('Done');
    expect(wrapper.get<HTMLInputElement>('#admin-token').element.value).toBe('gwa_once');
    expect(document.activeElement?.id).toBe('done-heading');
  });

  it('shows the server\'s message beside the refused field and stays on the step; "Skip for now" sends nothing', async () => {
    const refused = { error: 'invalid_setting_value', message: 'Nothing was saved: general.base_url must be a web address.', fields: { 'general.base_url': 'general.base_url must be a web address.' } };
    const calls = server({ '/api/settings/groups/general': () => ({ status: 400, body: refused }) });
    const wrapper = await mountAt('/setup?token=from-the-log');
    await wrapper.get('form').trigger('submit');
    await flushPromises();
    await wrapper.get('form').trigger('submit');
    await flushPromises();
    await wrapper.get('#setting-general-base_url').setValue('example.com');
    await wrapper.get('form').trigger('submit');
    await flushPromises();

    expect(currentStep(wrapper)).toContain('Settings');
    const field = wrapper.get('#setting-general-base_url');
    expect(field.attributes('aria-invalid')).toBe('true');
    expect(field.attributes('aria-describedby')).toBe('setting-general-base_url-hint setting-general-base_url-error');
    expect(wrapper.get('#setting-general-base_url-error').text()).toBe('Public URL must be a web address.');
    expect(wrapper.get('[role="alert"]').text()).toMatch(/One setting needs fixing/);
    expect(document.activeElement?.id).toBe('setting-general-base_url');

    const before = calls.length;
    await wrapper.findAll('button').find((button) => button.text() === 'Skip for now')!.trigger('click');
    await flushPromises();
    expect(currentStep(wrapper)).toContain('Done');
    expect(calls.slice(before).filter((call) => call.method === 'PUT')).toEqual([]);
  });

  it('goes straight to Done when setup joined an existing installation (no admin token, its settings are set)', async () => {
    const calls = server({ '/api/db/setup': () => ({ status: 200, body: { message: 'Joined.', restart_required: false, database_type: 'postgresql', adopted: true } }) });
    const wrapper = await mountAt('/setup?token=from-the-log');
    await wrapper.get('form').trigger('submit');
    await flushPromises();
    await wrapper.get('form').trigger('submit');
    await flushPromises();
    expect(currentStep(wrapper)).toContain('Done');
    expect(calls.some((call) => call.url.startsWith('/api/settings'))).toBe(false);
    expect(sessionStorage.length).toBe(0);
  });

  it('takes the token out of the address bar as soon as it has read it', async () => {
    const calls = server();
    const wrapper = await mountAt('/setup?token=from-the-log&lang=en');
    expect(wrapper.router.currentRoute.value.fullPath).toBe('/setup?lang=en');
    expect(wrapper.get<HTMLInputElement>('#setup-token').element.value).toBe('from-the-log');
    expect(wrapper.router.options.history.location).toBe('/setup?lang=en');

    await wrapper.get('form').trigger('submit');
    await flushPromises();
    expect(calls.find((call) => call.url === '/api/db/environment')?.headers['x-setup-token']).toBe('from-the-log');
  });

  it('stays on the token step with the reason when the token is wrong', async () => {
    server({ '/api/db/environment': () => ({ status: 401, body: { error: 'invalid_setup_token', message: 'The setup token is wrong.' } }) });
    const wrapper = await mountAt('/setup?token=wrong');
    await wrapper.get('form').trigger('submit');
    await flushPromises();
    expect(currentStep(wrapper)).toContain('Setup token');
    expect(wrapper.get('[role="alert"]').text()).toContain('The setup token is wrong.');
    expect(document.activeElement?.id).toBe('setup-token');
  });

  it('asks for a token before calling the server', async () => {
    const calls = server();
    const wrapper = await mountAt('/setup');
    await wrapper.get('form').trigger('submit');
    await flushPromises();
    expect(wrapper.get('[role="alert"]').text()).toBe('Enter the setup token first.');
    expect(calls.filter((call) => call.url === '/api/db/environment')).toEqual([]);
  });

  it('returns to the token step when a later step gets 401', async () => {
    server({ '/api/db/test': () => ({ status: 401, body: { error: 'invalid_setup_token', message: 'The setup token is wrong.' } }) });
    const wrapper = await mountAt('/setup?token=spent');
    await wrapper.get('form').trigger('submit');
    await flushPromises();
    await wrapper.get('input[value="postgresql"]').setValue(true);
    await wrapper.findAll('button').find((button) => button.text() === 'Test connection')!.trigger('click');
    await flushPromises();
    expect(currentStep(wrapper)).toContain('Setup token');
    expect(wrapper.get('[role="alert"]').text()).toMatch(/did not accept the setup token/);
  });

  it('says the instance is already set up and links home on 409', async () => {
    server({ '/api/db/environment': () => ({ status: 409, body: { error: 'already_configured', message: 'This instance is already set up.' } }) });
    const wrapper = await mountAt('/setup?token=late');
    await wrapper.get('form').trigger('submit');
    await flushPromises();
    expect(wrapper.get('h2').text()).toBe('Already set up');
    expect(wrapper.find('nav[aria-label="Setup steps"]').exists()).toBe(false);
    expect(wrapper.get('a').attributes('href')).toBe('/');
  });
});
