import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { AppDatabase } from '../db/index.ts';
import { pluginSchemas } from '../db/schema/index.ts';
import type * as DrizzleKitApi from 'drizzle-kit/api';
import type { GroundworkPlugin } from './define.ts';

type Snapshot = Record<string, unknown> & { tables: Record<string, SnapshotTable> };
interface SnapshotTable {
  name: string;
  columns: Record<string, { name: string; type: string; notNull?: boolean }>;
}

export interface StoredSchema {
  snapshot: unknown;
  snapshotHash: string;
}

export class PluginSchemaError extends Error {}

// drizzle-kit's programmatic API is large: loaded only when a plugin's schema actually changed.
let kit: Promise<typeof DrizzleKitApi> | null = null;
const drizzleKit = () => (kit ??= import('drizzle-kit/api'));

/** drizzle-kit's snapshot of the plugin's tables, and a hash of what matters in it (not its random ids). */
export async function snapshotOf(plugin: GroundworkPlugin): Promise<{ snapshot: Snapshot; hash: string }> {
  const { generateDrizzleJson } = await drizzleKit();
  const snapshot = generateDrizzleJson(plugin.tables) as unknown as Snapshot;
  const { id: _id, prevId: _prevId, ...content } = snapshot;
  return { snapshot, hash: createHash('sha256').update(JSON.stringify(content)).digest('hex') };
}

/**
 * Brings one plugin's tables to its code, in one transaction: the statements drizzle-kit generates
 * from the stored snapshot to the current one, then the new snapshot. Refuses anything that could
 * lose data (a dropped or renamed table or column, a changed type). Returns the statements run.
 */
export async function syncPluginSchema(db: AppDatabase, plugin: GroundworkPlugin, stored: StoredSchema | undefined): Promise<string[]> {
  const current = await snapshotOf(plugin);
  if (stored?.snapshotHash === current.hash) return [];

  const { generateDrizzleJson, generateMigration } = await drizzleKit();
  const previous = (stored?.snapshot ?? generateDrizzleJson({})) as Snapshot;
  const destructive = destructiveChanges(previous, current.snapshot);
  if (destructive.length > 0) {
    throw new PluginSchemaError(
      `Plugin ${plugin.id}: ${destructive.join('; ')}. Groundwork applies only additive changes; see docs/plugins.md for how to make this one.`,
    );
  }
  let statements: string[];
  try {
    statements = await generateMigration(previous as never, current.snapshot as never);
  } catch (error) {
    // drizzle-kit asks a person (rename or drop?) when a change is ambiguous; there is no one to ask here.
    const message = (error as Error).message;
    throw new PluginSchemaError(
      /TTY/i.test(message) ? `Plugin ${plugin.id}: a change is ambiguous (a rename or a drop?). Groundwork applies only additive changes.` : `Plugin ${plugin.id}: ${message}`,
    );
  }
  await db.transaction(async (tx) => {
    for (const statement of statements) await tx.execute(sql.raw(statement));
    await tx
      .insert(pluginSchemas)
      .values({ pluginId: plugin.id, version: plugin.version, snapshot: current.snapshot, snapshotHash: current.hash })
      .onConflictDoUpdate({
        target: pluginSchemas.pluginId,
        set: { version: plugin.version, snapshot: current.snapshot, snapshotHash: current.hash, appliedAt: sql`now()` },
      });
  });
  return statements;
}

/** Changes from `previous` to `current` that could lose data, named by table and column. */
export function destructiveChanges(previous: Snapshot, current: Snapshot): string[] {
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
