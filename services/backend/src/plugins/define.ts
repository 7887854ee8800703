import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { pgTableCreator, type PgDatabase, type PgQueryResultHKT, type PgTable } from 'drizzle-orm/pg-core';
import type { JsonValue, SettingDefinition, ValueOfType } from '../global-settings/define.ts';

export const PLUGIN_ID_PATTERN = /^[a-z][a-z0-9_]{1,30}$/;

/** A table creator that prefixes every table with `<id>_` (Drizzle's pgTableCreator). */
export type PluginTableCreator = ReturnType<typeof pgTableCreator>;

export type PluginTables = Record<string, PgTable>;
export type PluginSettings = Record<string, SettingDefinition>;

type SettingValue<D> = D extends SettingDefinition<infer T> ? ValueOfType<T> | (D extends { default: infer Default } ? (null extends Default ? null : never) : null) : JsonValue;

/**
 * The Fastify instance a plugin's routes are registered on, with the core's TypeBox type provider:
 * `request.params`, `body` and `query` are typed from the route's TypeBox schemas.
 */
export type PluginApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

/** What a plugin's routes and hooks get: its own tables, its own settings, a logger. */
export interface PluginContext<T extends PluginTables = PluginTables, S extends PluginSettings = PluginSettings> {
  readonly id: string;
  /**
   * The database, typed with this plugin's tables. A function, called where it is used (safe to
   * destructure at registration): throws DatabaseNotReadyError (a 503) until the database is ready.
   */
  db(): PgDatabase<PgQueryResultHKT, T>;
  readonly tables: T;
  /** One of this plugin's settings by name (`max_length`, not `notes.max_length`), typed by its definition. */
  setting<K extends keyof S & string>(name: K): SettingValue<S[K]>;
  readonly log: FastifyBaseLogger;
}

export interface PluginDefinition<T extends PluginTables, S extends PluginSettings> {
  /** `^[a-z][a-z0-9_]{1,30}$`; prefixes every table (`<id>_`), route (`/api/plugins/<id>/`) and setting (`<id>.`). */
  id: string;
  name: string;
  version: string;
  /** Declare tables with the given creator and Drizzle's usual column builders. Index names must start with `<id>_`. */
  tables: (table: PluginTableCreator) => T;
  settings?: S;
  // Methods, not function properties: a typed plugin must fit where any plugin is expected.
  /** Registers routes, mounted under /api/plugins/<id>/. */
  routes?(app: PluginApp, context: PluginContext<T, S>): void | Promise<void>;
  /** Runs once the database is ready and this plugin's tables are in place. A throw marks the plugin failed, nothing more. */
  onDatabaseReady?(context: PluginContext<T, S>): void | Promise<void>;
}

/** A plugin as Groundwork holds it: the definition with its tables already created. */
export interface GroundworkPlugin<T extends PluginTables = PluginTables, S extends PluginSettings = PluginSettings>
  extends Omit<PluginDefinition<T, S>, 'tables' | 'settings'> {
  tables: T;
  settings: S;
}

export class PluginDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginDefinitionError';
  }
}

/** Declares a plugin. Fully typed: the tables and settings given flow to the routes and hooks. */
export function definePlugin<T extends PluginTables, const S extends PluginSettings = Record<never, SettingDefinition>>(
  definition: PluginDefinition<T, S>,
): GroundworkPlugin<T, S> {
  const { id } = definition;
  if (typeof id !== 'string' || !PLUGIN_ID_PATTERN.test(id)) {
    throw new PluginDefinitionError(
      `Plugin id ${JSON.stringify(id)} is not allowed: use 2–31 characters, lower-case letters, digits and "_", starting with a letter (e.g. "audit_log").`,
    );
  }
  const tables = definition.tables(pgTableCreator((name) => `${id}_${name}`));
  return { ...definition, tables, settings: definition.settings ?? ({} as S) };
}
