import { defineSettingsGroup, resolveSettings, setting } from '../../services/backend/src/global-settings/define.ts';

/** 10 groups × 100 number settings: the 1,000 definitions of the seeding test and benchmark. */
export function thousandSettings() {
  const groups = Array.from({ length: 10 }, (_, g) =>
    defineSettingsGroup({
      id: `group${g}`,
      name: `Group ${g}`,
      description: 'Generated',
      sortOrder: g,
      settings: Object.fromEntries(Array.from({ length: 100 }, (_, s) => [`setting${s}`, setting.number({ name: `Setting ${s}`, description: 'Generated', default: s })])),
    }),
  );
  return { groups, settings: [...resolveSettings(groups).values()] };
}
