import { jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The schema each plugin's tables were last brought to: drizzle-kit's snapshot of them and a
 * fingerprint of their definition. A plugin whose fingerprint is unchanged gets no DDL at all;
 * otherwise the difference is computed from this snapshot.
 */
export const pluginSchemas = pgTable('plugin_schemas', {
  pluginId: text('plugin_id').primaryKey(),
  version: text('version').notNull(),
  snapshot: jsonb('snapshot').notNull(),
  snapshotHash: text('snapshot_hash').notNull(),
  appliedAt: timestamp('applied_at', { withTimezone: true }).notNull().defaultNow(),
});
