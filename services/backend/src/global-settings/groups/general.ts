import { defineSettingsGroup, setting } from '../define.ts';

export const generalSettings = defineSettingsGroup({
  id: 'general',
  name: 'General',
  description: 'How this instance presents itself.',
  sortOrder: 10,
  settings: {
    instance_name: setting.string({
      name: 'Instance name',
      description: 'Shown in page titles and e-mails.',
      default: 'Groundwork',
      required: true,
      setup: true,
      validation: { min: 1, max: 100 },
    }),
    base_url: setting.string({
      name: 'Public URL',
      description: 'The address people use to reach this instance, for links in e-mails (e.g. https://groundwork.example.com).',
      default: null,
      setup: true,
      validation: {
        pattern: '^https?://[^\\s/]+(/[^\\s]*)?$',
        patternHint: 'a web address starting with http:// or https://, e.g. https://groundwork.example.com',
        max: 2048,
      },
    }),
    maintenance_mode: setting.boolean({
      name: 'Maintenance mode',
      description: 'When on, the instance tells visitors it is under maintenance.',
      default: false,
    }),
  },
});
