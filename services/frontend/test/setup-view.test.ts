import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryHistory, createRouter } from 'vue-router';
import SetupView from '../src/views/SetupView.vue';
import { mockFetch, PHASES, UNCONFIGURED, type FetchCall } from './fetch-mock';

const ENVIRONMENT = { postgresql: { configured: true, host: 'db.internal', port: 5432, database: 'groundwork', user: 'app', ssl: false } };
const RESULT = { message: 'The embedded PGlite database is set up and ready.', restart_required: false, database_type: 'pglite', admin_token: 'gwa_once' };

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
    return { status: 200, body: UNCONFIGURED };
  });
}

afterEach(() => {
  vi.unstubAllGlobals();
  document.body.innerHTML = '';
});

describe('SetupView', () => {
  it('goes from the token in the link to the admin token in four steps', async () => {
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
    expect(currentStep(wrapper)).toContain('Done');
    expect(wrapper.get<HTMLInputElement>('#admin-token').element.value).toBe('gwa_once');
    expect(document.activeElement?.id).toBe('done-heading');
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
