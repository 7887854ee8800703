import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { is, SQL, sql } from 'drizzle-orm';
import { getTableConfig } from 'drizzle-orm/pg-core';
import type { AppDatabase } from '../db/index.ts';
import { pluginSchemas } from '../db/schema/index.ts';
import type * as DrizzleKitApi from 'drizzle-kit/api';
import type { GroundworkPlugin } from './define.ts';

type Snapshot = Record<string, unknown> & { tables: Record<string, SnapshotTable> };
interface SnapshotTable {
  name: string;
  columns: Record<string, { name: string; type: string; notNull?: boolean }>;
}

interface StoredSchema {
  snapshot: unknown;
  snapshotHash: string;
}

class PluginSchemaError extends Error {}

// drizzle-kit's programmatic API is large: loaded only when a plugin's schema actually changed,
// and through require(): imported as ESM under tsx (how `npm run dev` runs) its 3 MB bundle is
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
export async function syncPluginSchema(db: AppDatabase, plugin: GroundworkPlugin, stored: StoredSchema | undefined): Promise<string[]> {
  const fingerprint = fingerprintOf(plugin);
  if (stored?.snapshotHash === fingerprint) return [];

  const { generateDrizzleJson, generateMigration } = await drizzleKit();
  const current = await snapshotOf(plugin);
  const previous = (stored?.snapshot ?? generateDrizzleJson({})) as Snapshot;
  const destructive = destructiveChanges(previous, current);
  if (destructive.length > 0) {
    throw new PluginSchemaError(
      `Plugin ${plugin.id}: ${destructive.join('; ')}. Groundwork applies only additive changes; see docs/plugins.md for how to make this one.`,
    );
  }
  let statements: string[];
  try {
    statements = await generateMigration(previous as never, current as never);
  } catch (error) {
    // drizzle-kit asks a person (rename or drop?) when a change is ambiguous; there is no one to ask here.
    const message = (error as Error).message;
    throw new PluginSchemaError(
      /TTY/i.test(message) ? `Plugin ${plugin.id}: a change is ambiguous (a rename or a drop?). Groundwork applies only additive changes.` : `Plugin ${plugin.id}: ${message}`,
    );
  }
  await db.transaction(async (tx) => {
    for (const statement of statements) await tx.execute(sql.raw(statement));
    await recordAppliedSchema(tx, plugin, current, fingerprint);
  });
  return statements;
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
  const { generateDrizzleJson, generateMigration } = await drizzleKit();
  return generateMigration(generateDrizzleJson({}) as never, snapshot as never);
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
