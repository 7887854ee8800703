import { saveSettingsGroup, toApiError, type ApiError, type SettingsGroup, type SettingView } from './client';

/**
 * What a settings form field holds while someone edits it: a checkbox's state, or text (numbers and
 * JSON too, so a half-typed value stays as typed). A secret's draft is the new value to store, '' for
 * "leave it as it is": its value is never sent to the browser.
 */
export type Draft = string | boolean;

export function draftOf(setting: SettingView): Draft {
  if (setting.encrypted) return '';
  if (setting.type === 'boolean') return setting.value === true;
  if (setting.value === null || setting.value === undefined) return '';
  return setting.type === 'json' ? JSON.stringify(setting.value) : String(setting.value);
}

/**
 * The value to send for a draft, or what is wrong with it when the browser can tell (JSON that does
 * not parse); everything else the server checks, so its words appear beside the field. An empty field
 * goes back to the default.
 */
export function valueOf(setting: SettingView, draft: Draft): { value: unknown } | { problem: string } {
  if (setting.type === 'boolean') return { value: draft === true };
  const text = String(draft);
  if (text.trim() === '') return { value: null };
  if (setting.type === 'number') {
    const number = Number(text);
    return { value: Number.isFinite(number) ? number : text }; // not a number: the server says so
  }
  if (setting.type === 'json') {
    try {
      return { value: JSON.parse(text) as unknown };
    } catch {
      return { problem: `${setting.name} must be valid JSON, e.g. ["https://app.example.com"].` };
    }
  }
  return { value: text };
}

/** Whether a draft differs from what the server has (a secret: whether something was typed). */
export function isChanged(setting: SettingView, draft: Draft): boolean {
  return setting.encrypted ? draft !== '' : draft !== draftOf(setting);
}

/** The id of a setting's field in the page, from its key. */
export const fieldId = (key: string) => `setting-${key.replace(/[^a-z0-9_-]/gi, '-')}`;

/** The settings the wizard asks for: marked for setup, or required without a default. */
export function askedAtSetup(setting: SettingView): boolean {
  return setting.setup || (setting.required && (setting.default ?? null) === null);
}

export interface SaveOutcome {
  /** The groups the server saved, as it now lists them. */
  saved: SettingsGroup[];
  /** Refused keys with what is wrong, from the server (or the browser, for JSON that does not parse). */
  problems: Record<string, string>;
  /** A failure that is not about one field (a rejected token, the server unreachable). */
  failure: ApiError | null;
}

/**
 * Sends the changed drafts (`values`: key → value) group by group, each group all-or-nothing on the
 * server. Groups whose values the browser already knows to be wrong are not sent.
 */
export async function saveGroups(token: string, settings: SettingView[], drafts: Record<string, Draft>): Promise<SaveOutcome> {
  const outcome: SaveOutcome = { saved: [], problems: {}, failure: null };
  const byGroup = new Map<string, Record<string, unknown>>();
  const refusedGroups = new Set<string>();
  for (const setting of settings) {
    const draft = drafts[setting.key];
    if (draft === undefined || !isChanged(setting, draft)) continue;
    const result = valueOf(setting, draft);
    if ('problem' in result) {
      outcome.problems[setting.key] = result.problem;
      refusedGroups.add(setting.group);
      continue;
    }
    byGroup.set(setting.group, { ...byGroup.get(setting.group), [setting.key]: result.value });
  }
  for (const [groupId, values] of byGroup) {
    if (refusedGroups.has(groupId)) continue;
    try {
      outcome.saved.push(await saveSettingsGroup(token, groupId, values));
    } catch (caught) {
      const error = toApiError(caught);
      if (error.fields) Object.assign(outcome.problems, error.fields);
      else {
        outcome.failure = error;
        break;
      }
    }
  }
  return outcome;
}
