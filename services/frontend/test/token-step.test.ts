import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import TokenStep from '../src/components/TokenStep.vue';

describe('TokenStep', () => {
  it('shows the token it was given in a labelled field and says where to find it', () => {
    const wrapper = mount(TokenStep, { props: { modelValue: 'from-the-link', busy: false, error: null } });
    const input = wrapper.get<HTMLInputElement>('#setup-token');
    expect(input.element.value).toBe('from-the-link');
    expect(wrapper.get('label[for="setup-token"]').text()).toBe('Setup token');
    expect(wrapper.get('#token-hint').text()).toContain('persistent_data/setup-token');
    expect(wrapper.get('#token-hint').text()).toContain('log');
    expect(input.attributes('aria-invalid')).toBe('false');
  });

  it('updates the token as it is typed and asks to continue on submit', async () => {
    const wrapper = mount(TokenStep, { props: { modelValue: '', busy: false, error: null } });
    await wrapper.get('#setup-token').setValue('typed-token');
    expect(wrapper.emitted('update:modelValue')).toEqual([['typed-token']]);
    await wrapper.get('form').trigger('submit');
    expect(wrapper.emitted('submit')).toHaveLength(1);
  });

  it('shows an error as an alert tied to the field, and ignores presses while busy', async () => {
    const wrapper = mount(TokenStep, { props: { modelValue: 'x', busy: true, error: 'The setup token is wrong.' } });
    expect(wrapper.get('[role="alert"]').text()).toBe('The setup token is wrong.');
    const input = wrapper.get('#setup-token');
    expect(input.attributes('aria-invalid')).toBe('true');
    expect(input.attributes('aria-describedby')).toContain('token-error');
    expect(wrapper.get('button').text()).toBe('Checking…');
    await wrapper.get('form').trigger('submit');
    expect(wrapper.emitted('submit')).toBeUndefined();
  });
});
