import type { KeysOf, ValueOf } from './define.ts';
import { generalSettings } from './groups/general.ts';
import { mailSettings } from './groups/mail.ts';
import { securitySettings } from './groups/security.ts';

export { defineSettingsGroup, setting } from './define.ts';
export type { SettingDefinition, SettingsGroupDefinition, SettingType } from './define.ts';

/** The core groups, in display order. Plugins add their own group (one per plugin). */
export const CORE_SETTINGS_GROUPS = [generalSettings, mailSettings, securitySettings] as const;

export type CoreSettingKey = KeysOf<typeof CORE_SETTINGS_GROUPS>;
export type CoreSettingValue<K extends CoreSettingKey> = ValueOf<typeof CORE_SETTINGS_GROUPS, K>;
