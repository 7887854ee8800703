import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import ProgressStep from '../src/components/ProgressStep.vue';
import { deferred, mockFetch, PHASES, UNCONFIGURED, type FetchCall } from './fetch-mock';

const RESULT = { message: 'The PostgreSQL database is set up and ready.', restart_required: false, database_type: 'postgresql', admin_token: 'gwa_secret' };

type Answer = { status: number; body: unknown };

/** A server that lists PHASES, answers status with `status` and setup with `setup`. */
function server(setup: (call: FetchCall) => Answer | Promise<Answer>, status: unknown = UNCONFIGURED) {
  return mockFetch((call) => {
    if (call.url === '/api/db/setup') return setup(call);
    if (call.url === '/api/db/setup/phases') return { status: 200, body: PHASES };
    return { status: 200, body: status };
  });
}

function phaseStates(wrapper: ReturnType<typeof mount>) {
  return wrapper.findAll('.phases li').map((item) => item.classes().find((name) => name.startsWith('phase-')));
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('ProgressStep', () => {
  it('runs setup, shows the server\'s phases and the one it reports, and hands over the result', async () => {
    const setup = deferred<Answer>();
    const calls = server(() => setup.promise, { ...UNCONFIGURED, state: 'setting_up', type: 'postgresql', phase: 'migrate' });
    const wrapper = mount(ProgressStep, { props: { token: 'the-token', type: 'postgresql' } });
    await flushPromises();

    expect(calls.find((call) => call.url === '/api/db/setup')).toEqual({
      method: 'POST',
      url: '/api/db/setup',
      headers: expect.objectContaining({ 'x-setup-token': 'the-token' }),
      body: { type: 'postgresql' },
    });
    expect(wrapper.findAll('.phases li').map((item) => item.text())).toEqual(PHASES.phases.map((phase) => expect.stringContaining(phase.label)));
    expect(phaseStates(wrapper)).toEqual(['phase-done', 'phase-running', 'phase-waiting', 'phase-waiting', 'phase-waiting']);
    expect(wrapper.get('[role="status"]').text()).toContain('build the tables (server words)');

    setup.resolve({ status: 200, body: RESULT });
    await flushPromises();
    expect(wrapper.emitted('done')).toEqual([[RESULT]]);
    expect(phaseStates(wrapper)).toEqual(Array(5).fill('phase-done'));
  });

  it('shows the failure at the phase the server named, in the server\'s words, whatever the error code', async () => {
    // storage_error once meant "commit" to the wizard; the server says where it really stopped.
    server(() => ({ status: 500, body: { error: 'storage_error', message: 'Cannot write encryption.key: EISDIR.', phase: 'settings' } }));
    const wrapper = mount(ProgressStep, { props: { token: 'the-token', type: 'pglite' } });
    await flushPromises();

    expect(phaseStates(wrapper)).toEqual(['phase-done', 'phase-done', 'phase-failed', 'phase-waiting', 'phase-waiting']);
    expect(wrapper.get('.phase-failed').text()).toContain('Load the settings (server words)');
    expect(wrapper.get('.phase-failed').text()).toContain('Cannot write encryption.key: EISDIR.');
    expect(wrapper.get('[role="alert"]').text()).toBe('Setup stopped at “Load the settings (server words)”. Nothing was saved, so you can try again.');
  });

  it('marks no phase when setup failed before any ran, and says why in the alert', async () => {
    server(() => ({ status: 500, body: { error: 'storage_error', message: 'PERSISTENT_DATA_DIR (/data) is not writable: EACCES.' } }));
    const wrapper = mount(ProgressStep, { props: { token: 'the-token', type: 'pglite' } });
    await flushPromises();

    expect(phaseStates(wrapper)).toEqual(Array(5).fill('phase-waiting'));
    expect(wrapper.get('[role="alert"]').text()).toMatch(/^Setup failed: PERSISTENT_DATA_DIR \(\/data\) is not writable: EACCES\. Nothing was saved/);
  });

  it('shows an error beside the failing phase, and a retry that can succeed', async () => {
    let attempts = 0;
    server(() => {
      attempts += 1;
      return attempts === 1
        ? { status: 503, body: { error: 'database_unavailable', message: 'Cannot connect to PostgreSQL at db:5432: connection refused.', phase: 'connect' } }
        : { status: 200, body: RESULT };
    });
    const wrapper = mount(ProgressStep, { props: { token: 'the-token', type: 'postgresql' } });
    await flushPromises();

    expect(phaseStates(wrapper)[0]).toBe('phase-failed');
    expect(wrapper.get('.phase-failed').text()).toContain('connection refused');
    expect(wrapper.get('[role="alert"]').text()).toMatch(/Nothing was saved/);

    const retry = wrapper.findAll('button').find((button) => button.text() === 'Try again')!;
    await retry.trigger('click');
    await flushPromises();
    expect(attempts).toBe(2);
    expect(wrapper.emitted('done')).toEqual([[RESULT]]);
  });

  it('offers a way back after a failure', async () => {
    server(() => ({ status: 500, body: { error: 'migration_failed', message: 'A database migration failed: relation "x" already exists', phase: 'migrate' } }));
    const wrapper = mount(ProgressStep, { props: { token: 'the-token', type: 'pglite' } });
    await flushPromises();
    expect(phaseStates(wrapper)).toEqual(['phase-done', 'phase-failed', 'phase-waiting', 'phase-waiting', 'phase-waiting']);
    await wrapper.findAll('button').find((button) => button.text().startsWith('Back'))!.trigger('click');
    expect(wrapper.emitted('back')).toHaveLength(1);
  });

  it.each([
    [401, 'invalid_setup_token'],
    [409, 'already_configured'],
  ])('hands %i %s to the wizard', async (status, error) => {
    server(() => ({ status, body: { error, message: 'No.' } }));
    const wrapper = mount(ProgressStep, { props: { token: 'the-token', type: 'pglite' } });
    await flushPromises();
    const failure = wrapper.emitted('failure')?.[0]?.[0] as { status: number; code: string };
    expect(failure).toMatchObject({ status, code: error });
  });
});
