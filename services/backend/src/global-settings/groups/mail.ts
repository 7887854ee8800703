import { defineSettingsGroup, setting } from '../define.ts';

export const mailSettings = defineSettingsGroup({
  id: 'mail',
  name: 'Mail (SMTP)',
  description: 'The SMTP server used to send e-mail.',
  sortOrder: 20,
  settings: {
    enabled: setting.boolean({ name: 'Send e-mail', description: 'Turn on once the SMTP server below is filled in.', default: false, setup: true }),
    host: setting.string({ name: 'SMTP host', description: 'Host name of the SMTP server.', default: null, setup: true, validation: { max: 255 } }),
    port: setting.number({
      name: 'SMTP port',
      description: '587 for STARTTLS, 465 for TLS, 25 for plain.',
      default: 587,
      required: true,
      setup: true,
      validation: { integer: true, min: 1, max: 65535 },
    }),
    security: setting.string({
      name: 'Connection security',
      description: 'starttls, tls or none.',
      default: 'starttls',
      required: true,
      setup: true,
      validation: { enum: ['starttls', 'tls', 'none'] },
    }),
    username: setting.string({ name: 'SMTP user name', description: 'Leave empty if the server needs no login.', default: null, setup: true }),
    password: setting.string({ name: 'SMTP password', description: 'Stored encrypted; never shown again.', default: null, encrypted: true, setup: true }),
    from_address: setting.string({
      name: 'Sender address',
      description: 'The From: address of e-mail sent by this instance.',
      default: null,
      setup: true,
      validation: { pattern: '^[^\\s@]+@[^\\s@]+$', patternHint: 'an e-mail address, e.g. groundwork@example.com', max: 320 },
    }),
  },
});
