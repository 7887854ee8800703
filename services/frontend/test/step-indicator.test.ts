import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import StepIndicator from '../src/components/StepIndicator.vue';

describe('StepIndicator', () => {
  it('numbers the steps, marks the current one and says which are done', () => {
    const wrapper = mount(StepIndicator, { props: { steps: ['Setup token', 'Database', 'Set up', 'Done'], current: 1 } });
    const items = wrapper.findAll('li');
    expect(items).toHaveLength(4);
    expect(items.map((item) => item.attributes('aria-current'))).toEqual([undefined, 'step', undefined, undefined]);
    expect(items[0]!.text()).toContain('(done)');
    expect(items[1]!.text()).not.toContain('(done)');
    expect(wrapper.find('nav').attributes('aria-label')).toBe('Setup steps');
  });
});
