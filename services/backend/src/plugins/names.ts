import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import type { GroundworkPlugin } from './define.ts';

const MAX_IDENTIFIER_BYTES = 63;

/** Every name a table brings into the database: table, indexes, constraints, sequences. */
export function databaseNames(table: PgTable): { kind: string; name: string }[] {
  const config = getTableConfig(table);
  const names = [{ kind: 'table', name: config.name }];
  for (const column of config.columns) {
    if (column.columnType === 'PgSerial' || column.columnType === 'PgBigSerial53' || column.columnType === 'PgBigSerial64' || column.columnType === 'PgSmallSerial') {
      names.push({ kind: 'sequence', name: `${config.name}_${column.name}_seq` });
    }
    if (column.isUnique && column.uniqueName) names.push({ kind: 'unique constraint', name: column.uniqueName });
    if (column.primary) names.push({ kind: 'primary key', name: `${config.name}_pkey` });
  }
  for (const index of config.indexes) names.push({ kind: 'index', name: index.config.name ?? '(unnamed index)' });
  for (const key of config.primaryKeys) names.push({ kind: 'primary key', name: key.getName() });
  for (const key of config.foreignKeys) names.push({ kind: 'foreign key', name: key.getName() });
  for (const unique of config.uniqueConstraints) names.push({ kind: 'unique constraint', name: unique.getName() ?? '(unnamed)' });
  for (const check of config.checks) names.push({ kind: 'check constraint', name: check.name });
  return names;
}

/**
 * Refuses a plugin whose names leave its `<id>_` prefix, are too long for PostgreSQL (63 bytes),
 * or are already taken by the core or an earlier plugin. Returns the problems, empty if none.
 */
export function namingProblems(plugin: GroundworkPlugin, taken: Map<string, string>): string[] {
  const problems: string[] = [];
  const prefix = `${plugin.id}_`;
  for (const table of Object.values(plugin.tables)) {
    for (const { kind, name } of databaseNames(table)) {
      if (!name.startsWith(prefix)) problems.push(`${kind} "${name}" must start with "${prefix}"`);
      else if (Buffer.byteLength(name) > MAX_IDENTIFIER_BYTES) problems.push(`${kind} "${name}" is longer than ${MAX_IDENTIFIER_BYTES} bytes`);
      else if (taken.has(name) && taken.get(name) !== plugin.id) problems.push(`${kind} "${name}" is already used by ${taken.get(name)}`);
    }
  }
  return problems;
}

export function claimNames(plugin: GroundworkPlugin, taken: Map<string, string>): void {
  for (const table of Object.values(plugin.tables)) for (const { name } of databaseNames(table)) taken.set(name, plugin.id);
}
