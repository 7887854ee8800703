import { mount, RouterLinkStub } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import DoneStep from '../src/components/DoneStep.vue';
import type { SetupResult } from '../src/api/client';

const RESULT: SetupResult = { message: 'The embedded PGlite database is set up and ready.', restart_required: false, database_type: 'pglite', admin_token: 'gwa_0123456789abcdef' };

function mountStep(result: SetupResult) {
  return mount(DoneStep, { props: { result }, global: { stubs: { RouterLink: RouterLinkStub } } });
}

function setClipboard(writeText: (text: string) => Promise<void>) {
  Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
}

afterEach(() => {
  Reflect.deleteProperty(navigator, 'clipboard');
});

describe('DoneStep', () => {
  it('shows the admin token once, with a warning and a link to the status page', () => {
    const wrapper = mountStep(RESULT);
    expect(wrapper.text()).toContain(RESULT.message);
    const field = wrapper.get<HTMLInputElement>('#admin-token');
    expect(field.element.value).toBe('gwa_0123456789abcdef');
    expect(field.attributes('readonly')).toBeDefined();
    expect(wrapper.get('label[for="admin-token"]').text()).toBe('Admin token');
    expect(wrapper.get('#admin-token-warning').text()).toMatch(/shown only once/);
    expect(wrapper.getComponent(RouterLinkStub).props('to')).toBe('/');
  });

  it('copies the token to the clipboard', async () => {
    const writeText = vi.fn(async () => {});
    setClipboard(writeText);
    const wrapper = mountStep(RESULT);
    await wrapper.get('button').trigger('click');
    await vi.waitFor(() => expect(wrapper.get('[role="status"]').text()).toBe('Copied to the clipboard.'));
    expect(writeText).toHaveBeenCalledWith('gwa_0123456789abcdef');
  });

  it('selects the token and says how to copy it when the clipboard is not available', async () => {
    setClipboard(async () => {
      throw new Error('not allowed');
    });
    const wrapper = mountStep(RESULT);
    await wrapper.get('button').trigger('click');
    await vi.waitFor(() => expect(wrapper.get('[role="status"]').text()).toMatch(/press Ctrl\+C/));
  });

  it('says it joined an existing installation, with no token section, when the database was already set up', () => {
    const wrapper = mountStep({ message: 'The PostgreSQL database was already set up: this instance joined an existing installation and is ready.', restart_required: false, database_type: 'postgresql', adopted: true });
    expect(wrapper.get('#adopted-notice').text()).toMatch(/joined an existing installation.*no new admin token was issued/);
    expect(wrapper.get('#adopted-notice').text()).toMatch(/npm run admin:token/);
    expect(wrapper.find('#admin-token').exists()).toBe(false);
    expect(wrapper.getComponent(RouterLinkStub).props('to')).toBe('/');
  });

  it('shows no adoption notice after a first setup', () => {
    expect(mountStep(RESULT).find('#adopted-notice').exists()).toBe(false);
  });
});
