import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import ProgressStep from '../src/components/ProgressStep.vue';
import { deferred, mockFetch, UNCONFIGURED } from './fetch-mock';

const RESULT = { message: 'The PostgreSQL database is set up and ready.', restart_required: false, database_type: 'postgresql', admin_token: 'gwa_secret' };

function phaseStates(wrapper: ReturnType<typeof mount>) {
  return wrapper.findAll('.phases li').map((item) => item.classes().find((name) => name.startsWith('phase-')));
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('ProgressStep', () => {
  it('runs setup, shows the phase the server reports, and hands over the result', async () => {
    const setup = deferred<{ status: number; body: unknown }>();
    const calls = mockFetch((call) => {
      if (call.url === '/api/db/setup') return setup.promise;
      return { status: 200, body: { ...UNCONFIGURED, state: 'setting_up', type: 'postgresql', phase: 'migrate' } };
    });
    const wrapper = mount(ProgressStep, { props: { token: 'the-token', type: 'postgresql' } });
    await flushPromises();

    expect(calls.find((call) => call.url === '/api/db/setup')).toEqual({
      method: 'POST',
      url: '/api/db/setup',
      headers: expect.objectContaining({ 'x-setup-token': 'the-token' }),
      body: { type: 'postgresql' },
    });
    expect(wrapper.findAll('.phases li').map((item) => item.text())).toEqual([
      expect.stringContaining('Connect to the database'),
      expect.stringContaining('Create and update the tables'),
      expect.stringContaining('Prepare the settings'),
      expect.stringContaining('Prepare the plugins'),
      expect.stringContaining('Save the choice'),
    ]);
    expect(phaseStates(wrapper)).toEqual(['phase-done', 'phase-running', 'phase-waiting', 'phase-waiting', 'phase-waiting']);
    expect(wrapper.get('[role="status"]').text()).toContain('create and update the tables');

    setup.resolve({ status: 200, body: RESULT });
    await flushPromises();
    expect(wrapper.emitted('done')).toEqual([[RESULT]]);
  });

  it('shows an error beside the failing phase, and a retry that can succeed', async () => {
    let attempts = 0;
    mockFetch((call) => {
      if (call.url !== '/api/db/setup') return { status: 200, body: UNCONFIGURED };
      attempts += 1;
      return attempts === 1
        ? { status: 503, body: { error: 'database_unavailable', message: 'Cannot connect to PostgreSQL at db:5432: connection refused.' } }
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

  it('puts a failed migration beside the migrate phase and offers a way back', async () => {
    mockFetch((call) =>
      call.url === '/api/db/setup'
        ? { status: 500, body: { error: 'migration_failed', message: 'A database migration failed: relation "x" already exists' } }
        : { status: 200, body: UNCONFIGURED },
    );
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
    mockFetch((call) => (call.url === '/api/db/setup' ? { status, body: { error, message: 'No.' } } : { status: 200, body: UNCONFIGURED }));
    const wrapper = mount(ProgressStep, { props: { token: 'the-token', type: 'pglite' } });
    await flushPromises();
    const failure = wrapper.emitted('failure')?.[0]?.[0] as { status: number; code: string };
    expect(failure).toMatchObject({ status, code: error });
  });
});
