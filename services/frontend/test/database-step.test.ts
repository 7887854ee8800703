import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import DatabaseStep from '../src/components/DatabaseStep.vue';
import type { DatabaseEnvironment } from '../src/api/client';
import { mockFetch } from './fetch-mock';

const CONFIGURED: DatabaseEnvironment = {
  postgresql: { configured: true, host: 'db.internal', port: 5432, database: 'groundwork', user: 'app', ssl: true },
};

function mountStep(environment: DatabaseEnvironment | null, type: 'pglite' | 'postgresql' = 'postgresql') {
  return mount(DatabaseStep, { props: { modelValue: type, token: 'the-token', environment } });
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('DatabaseStep', () => {
  it('offers both databases as labelled radio buttons', () => {
    const wrapper = mountStep(CONFIGURED, 'pglite');
    const radios = wrapper.findAll('input[type="radio"]');
    expect(radios.map((radio) => radio.attributes('value'))).toEqual(['pglite', 'postgresql']);
    expect(wrapper.text()).toContain('Embedded (PGlite)');
    expect(wrapper.text()).toContain('Nothing to install');
    // The PostgreSQL details appear only when it is chosen.
    expect(wrapper.find('.facts').exists()).toBe(false);
  });

  it('shows what the server read from its environment, without any password', () => {
    const wrapper = mountStep(CONFIGURED);
    const facts = wrapper.get('.facts').text();
    for (const value of ['db.internal', '5432', 'groundwork', 'app', 'yes']) expect(facts).toContain(value);
    expect(wrapper.text()).toContain('never shown');
    expect(wrapper.text()).not.toMatch(/password:/i);
  });

  it('tests the connection with the token and shows the version and round trip', async () => {
    const calls = mockFetch(() => ({ status: 200, body: { ok: true, type: 'postgresql', version: 'PostgreSQL 17.2 on x86_64', round_trip_ms: 2.5 } }));
    const wrapper = mountStep(CONFIGURED);
    await wrapper.get('button.secondary').trigger('click');
    await flushPromises();
    expect(calls).toEqual([{ method: 'POST', url: '/api/db/test', headers: expect.objectContaining({ 'x-setup-token': 'the-token' }), body: { type: 'postgresql' } }]);
    const status = wrapper.get('[role="status"]').text();
    expect(status).toContain('Connected');
    expect(status).toContain('2.5 ms');
    expect(status).toContain('PostgreSQL 17.2');
  });

  it('shows a failed test in plain words', async () => {
    mockFetch(() => ({ status: 503, body: { error: 'database_unavailable', message: 'Cannot connect to PostgreSQL at db.internal:5432: connection refused.' } }));
    const wrapper = mountStep(CONFIGURED);
    await wrapper.get('button.secondary').trigger('click');
    await flushPromises();
    expect(wrapper.get('[role="alert"]').text()).toBe('The connection test failed. Cannot connect to PostgreSQL at db.internal:5432: connection refused.');
    expect(wrapper.emitted('failure')).toBeUndefined();
  });

  it('hands a rejected token to the wizard', async () => {
    mockFetch(() => ({ status: 401, body: { error: 'invalid_setup_token', message: 'The setup token is wrong.' } }));
    const wrapper = mountStep(CONFIGURED);
    await wrapper.get('button.secondary').trigger('click');
    await flushPromises();
    const failure = wrapper.emitted('failure')?.[0]?.[0] as { status: number };
    expect(failure.status).toBe(401);
  });

  it('says which variables to set when PostgreSQL is not configured, and does not set up', async () => {
    const wrapper = mountStep({ postgresql: { configured: false } });
    const text = wrapper.text();
    for (const name of ['DATABASE_URL', 'POSTGRES_HOST', 'POSTGRES_PORT', 'POSTGRES_DATABASE', 'POSTGRES_USER', 'POSTGRES_PASSWORD']) {
      expect(text).toContain(name);
    }
    expect(wrapper.text()).not.toContain('Test connection');
    await wrapper.get('form').trigger('submit');
    expect(wrapper.emitted('submit')).toBeUndefined();
    expect(wrapper.get('[role="alert"]').text()).toMatch(/restart the server/);
  });

  it('asks to set up with the embedded database', async () => {
    const wrapper = mountStep({ postgresql: { configured: false } }, 'pglite');
    expect(wrapper.get('button[type="submit"]').text()).toBe('Set up with the embedded database');
    await wrapper.get('form').trigger('submit');
    expect(wrapper.emitted('submit')).toHaveLength(1);
  });
});
