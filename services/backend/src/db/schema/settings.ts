import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, jsonb, pgTable, smallint, text, timestamp } from 'drizzle-orm/pg-core';

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
};

/** Groups of global settings (general, mail, security, one per plugin). Rows follow the code's definitions. */
export const settingGroups = pgTable('global_setting_groups', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  description: text('description').notNull(),
  sortOrder: integer('sort_order').notNull(),
  ...timestamps,
});

/**
 * Global settings. `value` holds what an operator set (JSON; for an encrypted setting, the
 * ciphertext string); null means "the default from the code", so defaults can change with the code
 * and an operator's value is never overwritten by seeding.
 */
export const globalSettings = pgTable(
  'global_settings',
  {
    key: text('key').primaryKey(),
    groupId: text('group_id')
      .notNull()
      .references(() => settingGroups.id),
    name: text('name').notNull(),
    description: text('description').notNull(),
    type: text('type', { enum: ['string', 'number', 'boolean', 'json'] }).notNull(),
    isEncrypted: boolean('is_encrypted').notNull(),
    value: jsonb('value'),
    ...timestamps,
  },
  (table) => [index('global_settings_group_id_idx').on(table.groupId)],
);

/**
 * Which key encrypts this database's secrets (an id derived from the key, never the key). A
 * process with another key refuses to start instead of reading garbage. `kdf_salt` is this
 * installation's random scrypt salt for a key derived from ENCRYPTION_SECRET (shared by every
 * replica); null for a random key file, or a key derived before salts (fixed salt).
 */
export const settingsEncryption = pgTable(
  'settings_encryption',
  {
    id: smallint('id').primaryKey().default(1),
    keyId: text('key_id').notNull(),
    kdfSalt: text('kdf_salt'),
    ...timestamps,
  },
  (table) => [check('settings_encryption_single_row', sql`${table.id} = 1`)],
);

/**
 * A counter bumped by the statement that changes a setting. Replicas that cannot LISTEN (behind a
 * transaction pooler) poll it and reload when it moved. One row, made by the first change.
 */
export const settingsVersion = pgTable(
  'settings_version',
  {
    id: smallint('id').primaryKey().default(1),
    version: bigint('version', { mode: 'number' }).notNull(),
  },
  (table) => [check('settings_version_single_row', sql`${table.id} = 1`)],
);
