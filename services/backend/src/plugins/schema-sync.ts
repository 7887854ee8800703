import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { is, SQL, sql } from 'drizzle-orm';
import { getTableConfig } from 'drizzle-orm/pg-core';
import type { AppDatabase } from '../db/index.ts';
import { pluginSchemas } from '../db/schema/index.ts';
import type * as DrizzleKitApi from 'drizzle-kit/api';
import type { FastifyBaseLogger } from 'fastify';
import type { GroundworkPlugin } from './define.ts';
import { runDrizzleKit, type DrizzleKitResult } from './drizzle-kit-worker.ts';
import { pluginFileOf } from './loader.ts';

type Snapshot = Record<string, unknown> & { tables: Record<string, SnapshotTable> };
interface SnapshotTable {
  name: string;
  columns: Record<string, { name: string; type: string; notNull?: boolean }>;
}

interface PrecomputedSchema {
  fingerprint: string;
  snapshot: unknown;
  statements: string[];
}

interface StoredSchema {
  snapshot: unknown;
  snapshotHash: string;
}

class PluginSchemaError extends Error {}

// drizzle-kit's programmatic API is large: the server runs it in a worker (drizzle-kit-worker.ts);
// in this thread only for a plugin made in-process and in the command-line tools, through require(): imported as ESM under tsx (how `npm run dev` runs) its 3 MB bundle is
// transformed and kept with source maps, +330 MB resident against +50 MB this way (measured).
const loadRequire = createRequire(import.meta.url);
const drizzleKit = async () => loadRequire('drizzle-kit/api') as typeof DrizzleKitApi;

/** drizzle-kit's snapshot of the plugin's tables: what a change is computed from. */
export async function snapshotOf(plugin: GroundworkPlugin): Promise<Snapshot> {
  const { generateDrizzleJson } = await drizzleKit();
  return generateDrizzleJson(plugin.tables) as unknown as Snapshot;
}

/**
 * A hash of everything in the plugin's tables that DDL depends on, from Drizzle's own table
 * config. Cheap: an unchanged plugin is recognised without loading drizzle-kit (~0.5 s and, under
 * tsx, a few hundred MB that would stay for the life of the process).
 */
export function fingerprintOf(plugin: GroundworkPlugin): string {
  const describeSql = (value: unknown): unknown =>
    is(value, SQL) ? value.queryChunks.map((chunk) => (chunk && typeof chunk === 'object' && 'value' in chunk ? String(chunk.value) : describeSql(chunk))).join('') : value;
  const tables = Object.values(plugin.tables).map((table) => {
    const config = getTableConfig(table);
    return {
      name: config.name,
      columns: config.columns.map((column) => [column.name, column.getSQLType(), column.notNull, column.primary, column.isUnique, column.uniqueName, describeSql(column.default), column.generated?.as]),
      indexes: config.indexes.map(({ config: index }) => [index.name, index.unique, index.method, index.columns.map((c) => ('name' in c ? c.name : describeSql(c))), describeSql(index.where)]),
      foreignKeys: config.foreignKeys.map((key) => {
        const reference = key.reference();
        return [key.getName(), reference.columns.map((c) => c.name), getTableConfig(reference.foreignTable).name, reference.foreignColumns.map((c) => c.name), key.onDelete, key.onUpdate];
      }),
      primaryKeys: config.primaryKeys.map((key) => [key.getName(), key.columns.map((c) => c.name)]),
      uniques: config.uniqueConstraints.map((unique) => [unique.getName(), unique.columns.map((c) => c.name), unique.nullsNotDistinct]),
      checks: config.checks.map((check) => [check.name, describeSql(check.value)]),
    };
  });
  return createHash('sha256').update(JSON.stringify(tables)).digest('hex');
}

/**
 * Brings one plugin's tables to its code, in one transaction: the statements drizzle-kit generates
 * from the stored snapshot to the current one, then the new snapshot. Refuses anything that could
 * lose data (a dropped or renamed table or column, a changed type). Returns the statements run.
 */
export async function syncPluginSchema(db: AppDatabase, plugin: GroundworkPlugin, stored: StoredSchema | undefined, log?: FastifyBaseLogger): Promise<string[]> {
  const fingerprint = fingerprintOf(plugin);
  if (stored?.snapshotHash === fingerprint) return [];

  // A first setup of a plugin the build already computed (npm run build): no drizzle-kit at all.
  const { current, statements } = (stored ? null : readPrecomputedSchema(plugin, fingerprint)) ?? (await computeChange(plugin, stored, log));
  await db.transaction(async (tx) => {
    for (const statement of statements) await tx.execute(sql.raw(statement));
    await recordAppliedSchema(tx, plugin, current, fingerprint);
  });
  return statements;
}

/** drizzle-kit's snapshot of the plugin's tables now and the statements from `stored` to it, refused if any could lose data. */
async function computeChange(plugin: GroundworkPlugin, stored: StoredSchema | undefined, log?: FastifyBaseLogger): Promise<{ current: Snapshot; statements: string[] }> {
  const file = pluginFileOf(plugin);
  log?.info({ plugin: plugin.id }, `Plugin ${plugin.id}: its tables changed, computing the statements with drizzle-kit${file ? ' in a worker' : ''}`);
  const result = file ? await runDrizzleKit({ pluginFile: file, previous: stored?.snapshot }) : await drizzleKitInProcess(plugin, stored?.snapshot);
  const current = result.snapshot as Snapshot;
  const destructive = destructiveChanges(result.previous as Snapshot, current);
  if (destructive.length > 0) {
    throw new PluginSchemaError(
      `Plugin ${plugin.id}: ${destructive.join('; ')}. Groundwork applies only additive changes; see docs/plugins.md for how to make this one.`,
    );
  }
  if (result.migrationError !== undefined) {
    // drizzle-kit asks a person (rename or drop?) when a change is ambiguous; there is no one to ask here.
    const message = result.migrationError;
    throw new PluginSchemaError(
      /TTY/i.test(message) ? `Plugin ${plugin.id}: a change is ambiguous (a rename or a drop?). Groundwork applies only additive changes.` : `Plugin ${plugin.id}: ${message}`,
    );
  }
  return { current, statements: result.statements ?? [] };
}

/** A plugin made in-process (tests) has no file a worker could import: its tables are diffed here. */
async function drizzleKitInProcess(plugin: GroundworkPlugin, previous: unknown): Promise<DrizzleKitResult> {
  const { generateDrizzleJson, generateMigration } = await drizzleKit();
  const snapshot = generateDrizzleJson(plugin.tables);
  const from = previous ?? generateDrizzleJson({});
  try {
    return { snapshot, previous: from, statements: await generateMigration(from as never, snapshot) };
  } catch (error) {
    return { snapshot, previous: from, migrationError: (error as Error).message };
  }
}

/** The file `npm run build` writes beside a compiled plugin: its DDL from nothing, for one fingerprint. */
export function precomputedSchemaFile(pluginFile: string): string {
  return pluginFile.replace(/\.(ts|js|mjs)$/, '.schema.json');
}

/** What the build computed for this plugin, if it is for these very tables (the fingerprint says so). */
function readPrecomputedSchema(plugin: GroundworkPlugin, fingerprint: string): { current: Snapshot; statements: string[] } | null {
  const file = pluginFileOf(plugin);
  if (!file || !existsSync(precomputedSchemaFile(file))) return null;
  const stored = JSON.parse(readFileSync(precomputedSchemaFile(file), 'utf8')) as PrecomputedSchema;
  return stored.fingerprint === fingerprint ? { current: stored.snapshot as Snapshot, statements: stored.statements } : null;
}

/** The plugin's tables from nothing, as `npm run build` stores them beside the compiled plugin. */
export async function precomputeSchema(plugin: GroundworkPlugin): Promise<PrecomputedSchema> {
  const { generateDrizzleJson, generateMigration } = await drizzleKit();
  const snapshot = generateDrizzleJson(plugin.tables);
  return { fingerprint: fingerprintOf(plugin), snapshot, statements: await generateMigration(generateDrizzleJson({}), snapshot) };
}

/** Records `snapshot` as the plugin's tables in the database: what the next boot compares against. */
export async function recordAppliedSchema(db: AppDatabase, plugin: GroundworkPlugin, snapshot: unknown, fingerprint: string): Promise<void> {
  await db
    .insert(pluginSchemas)
    .values({ pluginId: plugin.id, version: plugin.version, snapshot, snapshotHash: fingerprint })
    .onConflictDoUpdate({
      target: pluginSchemas.pluginId,
      set: { version: plugin.version, snapshot, snapshotHash: fingerprint, appliedAt: sql`now()` },
    });
}

/**
 * The DDL that creates a plugin's tables as a stored snapshot describes them, from nothing: how a
 * move rebuilds the tables a database has, whatever the plugin's code says today.
 */
export async function statementsToCreate(snapshot: unknown): Promise<string[]> {
  const result = await runDrizzleKit({ snapshot });
  if (result.migrationError !== undefined) throw new Error(result.migrationError);
  return result.statements ?? [];
}

/** Changes from `previous` to `current` that could lose data, named by table and column. */
function destructiveChanges(previous: Snapshot, current: Snapshot): string[] {
  const problems: string[] = [];
  for (const [key, before] of Object.entries(previous.tables)) {
    const after = current.tables[key];
    if (!after) {
      problems.push(`table ${before.name} would be dropped or renamed`);
      continue;
    }
    for (const [name, column] of Object.entries(before.columns)) {
      const now = after.columns[name];
      if (!now) problems.push(`column ${before.name}.${name} would be dropped or renamed`);
      else if (now.type !== column.type) problems.push(`column ${before.name}.${name} would change type from ${column.type} to ${now.type}`);
      else if (now.notNull && !column.notNull) problems.push(`column ${before.name}.${name} would become NOT NULL`);
    }
  }
  return problems;
}
