/**
 * How settings are declared. Each group lives in its own module (./groups) and its types flow
 * to the code that reads it: `settings.get('mail.port')` is a number.
 */
export type SettingType = 'string' | 'number' | 'boolean' | 'json';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type ValueOfType<T extends SettingType> = T extends 'string'
  ? string
  : T extends 'number'
    ? number
    : T extends 'boolean'
      ? boolean
      : JsonValue;

interface SettingValidation {
  /** Numbers: smallest and largest allowed; strings: shortest and longest length. */
  min?: number;
  max?: number;
  /** Numbers only: whole numbers. */
  integer?: boolean;
  /** Strings only: a regular expression the whole value must match. */
  pattern?: string;
  /** What the pattern asks for, in words ("a web address starting with https://"): refusals say this instead of the pattern. */
  patternHint?: string;
  /** The only values allowed. */
  enum?: readonly (string | number)[];
}

export interface SettingDefinition<T extends SettingType = SettingType> {
  type: T;
  name: string;
  description: string;
  /** Used while no value is set. Secrets should default to null. */
  default: ValueOfType<T> | null;
  /** Stored as AES-256-GCM ciphertext and never returned by the API. */
  encrypted?: boolean;
  /** Cannot be cleared to null or an empty string. */
  required?: boolean;
  /** Asked for by the setup wizard's first-settings step (an operator should decide it at once). */
  setup?: boolean;
  validation?: SettingValidation;
}

export interface SettingsGroupDefinition<Id extends string = string, S extends Record<string, SettingDefinition> = Record<string, SettingDefinition>> {
  id: Id;
  name: string;
  description: string;
  sortOrder: number;
  settings: S;
}

type Declared<T extends SettingType> = Omit<SettingDefinition<T>, 'type'>;

/** Builders that fix each setting's type, so a default of the wrong type does not compile. */
export const setting = {
  string: <const D extends Declared<'string'>>(definition: D) => ({ ...definition, type: 'string' as const }),
  number: <const D extends Declared<'number'>>(definition: D) => ({ ...definition, type: 'number' as const }),
  boolean: <const D extends Declared<'boolean'>>(definition: D) => ({ ...definition, type: 'boolean' as const }),
  json: <const D extends Declared<'json'>>(definition: D) => ({ ...definition, type: 'json' as const }),
};

export function defineSettingsGroup<const Id extends string, const S extends Record<string, SettingDefinition>>(
  group: SettingsGroupDefinition<Id, S>,
): SettingsGroupDefinition<Id, S> {
  return group;
}

/** One setting with its full key, ready for seeding, validation and the API. */
export interface ResolvedSetting extends SettingDefinition {
  key: string;
  groupId: string;
}

/** `<group>.<name>` → definition, for every group given. */
export function resolveSettings(groups: readonly SettingsGroupDefinition[]): Map<string, ResolvedSetting> {
  const resolved = new Map<string, ResolvedSetting>();
  for (const group of groups) {
    for (const [name, definition] of Object.entries(group.settings)) {
      const key = `${group.id}.${name}`;
      if (resolved.has(key)) throw new Error(`Setting ${key} is declared twice`);
      resolved.set(key, { ...definition, key, groupId: group.id });
    }
  }
  return resolved;
}

/** The keys and value types of a list of groups, for typed reads. */
type EntriesOf<G> =
  G extends SettingsGroupDefinition<infer Id, infer S> ? { [N in keyof S & string]: { key: `${Id}.${N}`; definition: S[N] } }[keyof S & string] : never;

export type KeysOf<Groups extends readonly SettingsGroupDefinition[]> = EntriesOf<Groups[number]>['key'];

/** A setting with a non-null default never reads as null. */
export type ValueOf<Groups extends readonly SettingsGroupDefinition[], K extends string> =
  Extract<EntriesOf<Groups[number]>, { key: K }>['definition'] extends infer D
    ? D extends { type: infer T extends SettingType; default: infer Default }
      ? ValueOfType<T> | (null extends Default ? null : never)
      : never
    : never;
