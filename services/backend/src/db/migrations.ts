import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { asc, sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
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

/**
 * Applies pending migrations on `db`, which may be a transaction (then they join it, as a
 * savepoint): the same steps and bookkeeping as Drizzle's migrator (pg-core dialect.migrate), so
 * `drizzle-orm`'s migrate() and this one recognise each other's work. Drizzle's own migrator opens
 * a transaction of its own, which cannot sit inside the one holding the schema lock.
 */
export async function applyMigrations(db: AppDatabase): Promise<void> {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_DIR });
  await db.execute(sql`create schema if not exists "drizzle"`);
  await db.execute(sql`create table if not exists "drizzle"."__drizzle_migrations" (id serial primary key, hash text not null, created_at bigint)`);
  const [last] = await db.select({ createdAt: drizzleMigrations.createdAt }).from(drizzleMigrations).orderBy(sql`created_at desc`).limit(1);
  const pending = migrations.filter((migration) => !last || Number(last.createdAt) < migration.folderMillis);
  if (pending.length === 0) return;
  await db.transaction(async (tx) => {
    for (const migration of pending) {
      for (const statement of migration.sql) await tx.execute(sql.raw(statement));
      await tx.insert(drizzleMigrations).values({ hash: migration.hash, createdAt: migration.folderMillis });
    }
  });
}
