import { sql } from 'drizzle-orm';
import type { AppDatabase } from '../db/index.ts';
import { globalSettings, settingGroups } from '../db/schema/index.ts';
import type { ResolvedSetting, SettingsGroupDefinition } from './define.ts';

// Postgres allows 65,535 parameters per statement; settings rows take 7 each.
const ROWS_PER_STATEMENT = 5_000;

/**
 * Inserts missing groups and settings, one multi-row statement per table. Names, descriptions
 * and groups of existing rows follow the code; values are never touched (an operator's value
 * is kept; null means the code's default). A row that is already right is not even rewritten.
 */
export async function seedSettings(db: AppDatabase, groups: readonly SettingsGroupDefinition[], settings: Iterable<ResolvedSetting>): Promise<void> {
  if (groups.length > 0) {
    await db
      .insert(settingGroups)
      .values(groups.map(({ id, name, description, sortOrder }) => ({ id, name, description, sortOrder })))
      .onConflictDoUpdate({
        target: settingGroups.id,
        set: { name: sql`excluded.name`, description: sql`excluded.description`, sortOrder: sql`excluded.sort_order`, updatedAt: sql`now()` },
        setWhere: sql`(${settingGroups.name}, ${settingGroups.description}, ${settingGroups.sortOrder}) is distinct from (excluded.name, excluded.description, excluded.sort_order)`,
      });
  }
  const rows = [...settings].map((setting) => ({
    key: setting.key,
    groupId: setting.groupId,
    name: setting.name,
    description: setting.description,
    type: setting.type,
    isEncrypted: setting.encrypted === true,
    value: null,
  }));
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    await db
      .insert(globalSettings)
      .values(rows.slice(start, start + ROWS_PER_STATEMENT))
      .onConflictDoUpdate({
        target: globalSettings.key,
        set: { groupId: sql`excluded.group_id`, name: sql`excluded.name`, description: sql`excluded.description`, updatedAt: sql`now()` },
        setWhere: sql`(${globalSettings.groupId}, ${globalSettings.name}, ${globalSettings.description}) is distinct from (excluded.group_id, excluded.name, excluded.description)`,
      });
  }
}
