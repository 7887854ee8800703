import { sql } from 'drizzle-orm';
import { pgTable, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** Admin API tokens, stored as SHA-256 hashes only. At most one is active: issuing one revokes the others. */
export const adminTokens = pgTable(
  'admin_tokens',
  {
    id: serial('id').primaryKey(),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (table) => [uniqueIndex('admin_tokens_one_active_idx').on(sql`(true)`).where(sql`${table.revokedAt} is null`)],
);
