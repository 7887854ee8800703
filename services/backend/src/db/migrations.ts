import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { asc } from 'drizzle-orm';
import { bigint, pgSchema, serial, text } from 'drizzle-orm/pg-core';
import { MIGRATIONS_DIR } from '../paths.ts';
import type { AppDatabase } from './index.ts';

// Drizzle's own bookkeeping table. Declared here, not in ./schema, so drizzle-kit never manages it.
const drizzleMigrations = pgSchema('drizzle').table('__drizzle_migrations', {
  id: serial('id').primaryKey(),
  hash: text('hash').notNull(),
  createdAt: bigint('created_at', { mode: 'number' }),
});

export interface JournalEntry {
  tag: string;
  when: number;
}

/** Drizzle's record of applied migrations, matched to the tags of this release's journal. */
export async function listMigrations(db: AppDatabase): Promise<{ applied: string[]; pending: string[] }> {
  // Drizzle keys each applied migration by the time it was generated (the journal's `when`).
  const rows = await db.select({ createdAt: drizzleMigrations.createdAt }).from(drizzleMigrations).orderBy(asc(drizzleMigrations.id));
  const appliedMillis = rows.map((row) => Number(row.createdAt));
  const journal = readJournal();
  const tagOf = (millis: number) => journal.find((entry) => entry.when === millis)?.tag ?? `unknown (generated ${new Date(millis).toISOString()})`;
  const applied = appliedMillis.map(tagOf);
  const pending = journal.filter((entry) => !appliedMillis.includes(entry.when)).map((entry) => entry.tag);
  return { applied, pending };
}

// The journal ships with the release and cannot change while the process runs: read it once.
let journalEntries: JournalEntry[] | null = null;

/** The migrations this release ships, oldest first. */
export function readJournal(): JournalEntry[] {
  return (journalEntries ??= (JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as { entries: JournalEntry[] }).entries);
}
