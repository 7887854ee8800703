import type { JsonValue, ResolvedSetting } from './define.ts';

/** Checks a value against its setting's type and rules; returns what is wrong in plain words, or null. */
export function problemWith(setting: ResolvedSetting, value: unknown): string | null {
  const { key, type, validation: rules = {} } = setting;
  // null means "back to the default", which only a required setting without a default cannot take.
  if (value === null) return setting.required && setting.default === null ? `${key} is required.` : null;
  if (setting.required && value === '') return `${key} is required and cannot be empty.`;
  switch (type) {
    case 'string':
      if (typeof value !== 'string') return `${key} must be a string.`;
      if (rules.min !== undefined && value.length < rules.min) return `${key} must be at least ${rules.min} characters long.`;
      if (rules.max !== undefined && value.length > rules.max) return `${key} must be at most ${rules.max} characters long.`;
      if (rules.pattern !== undefined && !new RegExp(rules.pattern).test(value)) return `${key} must match the pattern ${rules.pattern}.`;
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
      if (!isJson(value)) return `${key} must be a JSON value.`;
      break;
  }
  if (rules.enum && !rules.enum.includes(value as string | number)) return `${key} must be one of: ${rules.enum.join(', ')}.`;
  return null;
}

function isJson(value: unknown): value is JsonValue {
  if (value === null || ['string', 'boolean'].includes(typeof value)) return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJson);
  if (typeof value === 'object') return Object.values(value).every(isJson);
  return false;
}
