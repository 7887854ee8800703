import { sql } from 'drizzle-orm';
import { check, pgTable, smallint, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * One row, written by the last phase of a successful setup. It lets a replica that has no
 * selection file of its own see that this database was already set up.
 */
export const setupRecord = pgTable(
  'setup_record',
  {
    id: smallint('id').primaryKey().default(1),
    databaseType: text('database_type').notNull(),
    appVersion: text('app_version').notNull(),
    completedAt: timestamp('completed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [check('setup_record_single_row', sql`${table.id} = 1`)],
);
