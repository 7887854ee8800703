import Type, { type Static } from 'typebox';

/** A setting as the admin API shows it. `value` and `default` are absent for encrypted settings. */
export const SettingSchema = Type.Object(
  {
    key: Type.String({ description: '<group>.<name>' }),
    group: Type.String(),
    name: Type.String(),
    description: Type.String(),
    type: Type.Enum(['string', 'number', 'boolean', 'json']),
    encrypted: Type.Boolean(),
    required: Type.Boolean(),
    setup: Type.Boolean({ description: 'The setup wizard asks for it (with the settings that are required and have no default).' }),
    validation: Type.Optional(
      Type.Object(
        {
          min: Type.Optional(Type.Number()),
          max: Type.Optional(Type.Number()),
          integer: Type.Optional(Type.Boolean()),
          pattern: Type.Optional(Type.String()),
          patternHint: Type.Optional(Type.String({ description: 'What the pattern asks for, in words.' })),
          enum: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number()]))),
        },
        { additionalProperties: false },
      ),
    ),
    is_set: Type.Boolean({ description: 'An operator has stored a value (otherwise the default applies).' }),
    value: Type.Optional(Type.Unknown({ description: 'The current value; never present for encrypted settings.' })),
    default: Type.Optional(Type.Unknown()),
  },
  { $id: 'Setting', additionalProperties: false },
);

export const settingRef = Type.Ref('Setting');
export type SettingView = Static<typeof SettingSchema>;

export const SettingsGroupSchema = Type.Object(
  { id: Type.String(), name: Type.String(), description: Type.String(), sortOrder: Type.Integer(), settings: Type.Array(settingRef) },
  { additionalProperties: false },
);
/** A group as GET /api/settings lists it (`settings` is a reference in the schema, spelled out here). */
export type SettingsGroup = Omit<Static<typeof SettingsGroupSchema>, 'settings'> & { settings: SettingView[] };

export const SettingsGroupParams = Type.Object({ groupId: Type.String({ pattern: '^[a-z][a-z0-9_]*$', maxLength: 100 }) });

/** Several settings of one group at once: all are checked before any is written, and all are written together. */
export const SettingsGroupValuesBody = Type.Object(
  {
    values: Type.Record(Type.String({ maxLength: 200 }), Type.Unknown(), {
      description: 'Full keys (`<group>.<name>`) to their new values; null goes back to the default (and clears a secret).',
    }),
  },
  { additionalProperties: false, required: ['values'] },
);

export const SettingKeyParams = Type.Object({ key: Type.String({ pattern: '^[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*$', maxLength: 200 }) });

export const adminSecurity = [{ adminToken: [] }];
