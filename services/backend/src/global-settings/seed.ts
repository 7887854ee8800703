import { sql } from 'drizzle-orm';
import type { AppDatabase } from '../db/index.ts';
import { globalSettings, settingGroups } from '../db/schema/index.ts';
import type { ResolvedSetting, SettingsGroupDefinition } from './define.ts';

/** One parameter holding the whole list (a bare array in `sql` would become one parameter per item). */
const array = (values: unknown[]) => sql.param(values);

/**
 * Inserts missing groups and settings: one statement per table, whatever the number of
 * definitions. Each column travels as one array parameter and `unnest` turns them into rows, so
 * 1,000 definitions cost 7 parameters, not 7,000 (a multi-row VALUES list is ~4× slower here).
 *
 * Names, descriptions and groups of existing rows follow the code; values are never touched (an
 * operator's value is kept; null means the code's default). A row already right is not rewritten.
 */
export async function seedSettings(db: AppDatabase, groups: readonly SettingsGroupDefinition[], settings: Iterable<ResolvedSetting>): Promise<void> {
  const g = settingGroups;
  await db.execute(sql`
    insert into ${g} (id, name, description, sort_order)
    select * from unnest(${array(groups.map((group) => group.id))}::text[], ${array(groups.map((group) => group.name))}::text[],
                         ${array(groups.map((group) => group.description))}::text[], ${array(groups.map((group) => group.sortOrder))}::int[])
    on conflict (id) do update set name = excluded.name, description = excluded.description, sort_order = excluded.sort_order, updated_at = now()
    where (${g.name}, ${g.description}, ${g.sortOrder}) is distinct from (excluded.name, excluded.description, excluded.sort_order)`);

  const rows = [...settings];
  const s = globalSettings;
  await db.execute(sql`
    insert into ${s} (key, group_id, name, description, type, is_encrypted)
    select * from unnest(${array(rows.map((row) => row.key))}::text[], ${array(rows.map((row) => row.groupId))}::text[], ${array(rows.map((row) => row.name))}::text[],
                         ${array(rows.map((row) => row.description))}::text[], ${array(rows.map((row) => row.type))}::text[], ${array(rows.map((row) => row.encrypted === true))}::boolean[])
    on conflict (key) do update set group_id = excluded.group_id, name = excluded.name, description = excluded.description, updated_at = now()
    where (${s.groupId}, ${s.name}, ${s.description}) is distinct from (excluded.group_id, excluded.name, excluded.description)`);
}
