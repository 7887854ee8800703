import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { asc, sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { bigint, pgSchema, serial, text } from 'drizzle-orm/pg-core';
import { MIGRATIONS_DIR } from '../paths.ts';
import { SchemaDivergedError } from '../errors.ts';
import type { MigrationsList } from '../schemas/database.ts';
import type { AppDatabase } from './index.ts';

// Drizzle's own bookkeeping table. Declared here, not in ./schema, so drizzle-kit never manages it.
const drizzleMigrations = pgSchema('drizzle').table('__drizzle_migrations', {
  id: serial('id').primaryKey(),
  hash: text('hash').notNull(),
  createdAt: bigint('created_at', { mode: 'number' }),
});

/** Creates Drizzle's bookkeeping table, as Drizzle's migrator does (the PGlite template runs it too). */
export const BOOKKEEPING_DDL = [
  'create schema if not exists "drizzle"',
  'create table if not exists "drizzle"."__drizzle_migrations" (id serial primary key, hash text not null, created_at bigint)',
];
/** Records one applied migration ($1 its hash, $2 its folderMillis), as Drizzle's migrator does. */
export const RECORD_MIGRATION_SQL = 'insert into "drizzle"."__drizzle_migrations" ("hash", "created_at") values ($1, $2)';

export interface JournalEntry {
  tag: string;
  when: number;
}

/** Drizzle's record of applied migrations, matched to the tags of this release's journal. */
export async function listMigrations(db: AppDatabase): Promise<MigrationsList> {
  const rows = await appliedRows(db);
  const journal = readJournal();
  const known = new Set(journal.map((entry) => entry.when));
  const applied = rows.map((row) => journal.find((entry) => entry.when === row.createdAt)?.tag ?? unknownLabel(row));
  const pending = journal.filter((entry) => !rows.some((row) => row.createdAt === entry.when)).map((entry) => entry.tag);
  const unknown = rows.filter((row) => !known.has(row.createdAt)).map(unknownLabel);
  return { applied, pending, unknown, schema: compareWithJournal(rows, journal).schema === 'ahead' ? 'ahead' : 'current' };
}

export interface AppliedRow {
  createdAt: number;
  /** Absent where it is not recorded (a backup's manifest). */
  hash?: string;
}

/** How the database's applied migrations relate to this release's journal. */
export type SchemaComparison =
  | { schema: 'current'; pending: number }
  /** A newer release applied migrations this code does not know (a rolling upgrade): no schema work here. */
  | { schema: 'ahead'; unknown: string[] };

/**
 * Drizzle applies by `created_at` (the journal's `when`), so both lists must agree as far as the
 * shorter one goes: the database is this release's prefix (pending migrations follow) or this
 * release is the database's prefix (a newer release ran). Anything else is a diverged history.
 * `subject` names whose history it is in the message (a database, or a backup).
 */
export function compareWithJournal(rows: AppliedRow[], journal: JournalEntry[], subject = 'The database'): SchemaComparison {
  const shared = Math.min(rows.length, journal.length);
  for (let index = 0; index < shared; index++) {
    const row = rows[index]!;
    const entry = journal[index]!;
    if (row.createdAt === entry.when) continue;
    const inCode = journal.find((candidate) => candidate.when === row.createdAt);
    throw new SchemaDivergedError(
      inCode
        ? `${subject} has not applied ${entry.tag}, which this release ships before ${inCode.tag}, yet it has applied ${inCode.tag}${row.hash ? ` (${hashLabel(row)})` : ''} and the migrations after it. Its migration history has diverged from this release's; deploy the release that made it.`
        : `${subject} has applied a migration this release does not know, ${unknownLabel(row)}, where this release has ${entry.tag}. Its migration history has diverged from this release's; deploy the release that made it.`,
    );
  }
  if (rows.length > journal.length) return { schema: 'ahead', unknown: rows.slice(journal.length).map(unknownLabel) };
  return { schema: 'current', pending: journal.length - rows.length };
}

function unknownLabel(row: AppliedRow): string {
  return `unknown (generated ${new Date(row.createdAt).toISOString()}${row.hash ? `, ${hashLabel(row)}` : ''})`;
}

function hashLabel(row: AppliedRow): string {
  return `hash ${row.hash?.slice(0, 12)}`;
}

async function appliedRows(db: AppDatabase): Promise<AppliedRow[]> {
  const rows = await db
    .select({ createdAt: drizzleMigrations.createdAt, hash: drizzleMigrations.hash })
    .from(drizzleMigrations)
    .orderBy(asc(drizzleMigrations.createdAt), asc(drizzleMigrations.id));
  return rows.map((row) => ({ createdAt: Number(row.createdAt), hash: row.hash }));
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
export async function applyMigrations(db: AppDatabase): Promise<SchemaComparison> {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_DIR });
  for (const statement of BOOKKEEPING_DDL) await db.execute(sql.raw(statement));
  const comparison = compareWithJournal(await appliedRows(db), readJournal());
  if (comparison.schema === 'ahead' || comparison.pending === 0) return comparison;
  const pending = migrations.slice(migrations.length - comparison.pending);
  await db.transaction(async (tx) => {
    for (const migration of pending) {
      for (const statement of migration.sql) await tx.execute(sql.raw(statement));
      await tx.insert(drizzleMigrations).values({ hash: migration.hash, createdAt: migration.folderMillis });
    }
  });
  return comparison;
}
