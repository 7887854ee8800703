import { defineSettingsGroup, setting } from '../define.ts';

export const securitySettings = defineSettingsGroup({
  id: 'security',
  name: 'Security',
  description: 'Sessions, passwords and what may call this instance.',
  sortOrder: 30,
  settings: {
    session_timeout_minutes: setting.number({
      name: 'Session timeout (minutes)',
      description: 'Idle time after which people must sign in again.',
      default: 60,
      required: true,
      validation: { integer: true, min: 5, max: 10080 },
    }),
    password_min_length: setting.number({
      name: 'Minimum password length',
      description: 'Shortest password accepted for accounts.',
      default: 12,
      required: true,
      validation: { integer: true, min: 8, max: 128 },
    }),
    allowed_origins: setting.json({
      name: 'Allowed origins (CORS)',
      description: 'A JSON list of origins allowed to call the API from a browser, e.g. ["https://app.example.com"].',
      default: [],
    }),
    webhook_signing_secret: setting.string({
      name: 'Webhook signing secret',
      description: 'Signs outgoing webhooks. Stored encrypted; never shown again.',
      default: null,
      encrypted: true,
      validation: { min: 16 },
    }),
  },
});
