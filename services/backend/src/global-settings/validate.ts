import type { JsonValue, ResolvedSetting } from './define.ts';

/**
 * Bounds on every stored value, whether it comes from the API or straight from the database: code
 * that walks a value (validation, serialization) can then never run out of stack or memory.
 */
const MAX_SETTING_DEPTH = 32;
const MAX_SETTING_BYTES = 32 * 1024;

/** Checks a value against its setting's type and rules; returns what is wrong in plain words, or null. */
export function problemWith(setting: ResolvedSetting, value: unknown): string | null {
  const { key, type, validation: rules = {} } = setting;
  // null means "back to the default", which only a required setting without a default cannot take.
  if (value === null) return setting.required && setting.default === null ? `${key} is required.` : null;
  if (setting.required && value === '') return `${key} is required and cannot be empty.`;
  switch (type) {
    case 'string':
      if (typeof value !== 'string') return `${key} must be a string.`;
      if (tooLarge(value)) return `${key} must be at most ${MAX_SETTING_BYTES / 1024} kB as JSON.`;
      if (rules.min !== undefined && value.length < rules.min) return `${key} must be at least ${rules.min} characters long.`;
      if (rules.max !== undefined && value.length > rules.max) return `${key} must be at most ${rules.max} characters long.`;
      if (rules.pattern !== undefined && !new RegExp(rules.pattern).test(value)) return `${key} must be ${rules.patternHint ?? `text matching the pattern ${rules.pattern}`}.`;
      break;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return `${key} must be a number.`;
      if (rules.integer && !Number.isInteger(value)) return `${key} must be a whole number.`;
      if (rules.min !== undefined && value < rules.min) return `${key} must be at least ${rules.min}.`;
      if (rules.max !== undefined && value > rules.max) return `${key} must be at most ${rules.max}.`;
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return `${key} must be true or false.`;
      break;
    case 'json':
      if (!isJson(value)) return `${key} must be a JSON value nesting arrays and objects at most ${MAX_SETTING_DEPTH} levels deep.`;
      if (tooLarge(value)) return `${key} must be at most ${MAX_SETTING_BYTES / 1024} kB as JSON.`;
      break;
  }
  if (rules.enum && !rules.enum.includes(value as string | number)) return `${key} must be one of: ${rules.enum.join(', ')}.`;
  return null;
}

const tooLarge = (value: JsonValue) => Buffer.byteLength(JSON.stringify(value)) > MAX_SETTING_BYTES;

/** Stops at MAX_SETTING_DEPTH, so even a value nested thousands of levels deep costs a few frames. */
function isJson(value: unknown, depth = 0): value is JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || depth >= MAX_SETTING_DEPTH) return false;
  return (Array.isArray(value) ? value : Object.values(value)).every((child) => isJson(child, depth + 1));
}
