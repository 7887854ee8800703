import type { FastifyBaseLogger } from 'fastify';
import type { ActiveDatabase } from '../db/active-database.ts';
import type { AppDatabase } from '../db/index.ts';
import { pluginSchemas } from '../db/schema/index.ts';
import { getTableConfig } from 'drizzle-orm/pg-core';
import type { SettingsGroupDefinition } from '../global-settings/define.ts';
import type { SettingsStore } from '../global-settings/store.ts';
import { rootMessage } from '../errors.ts';
import type { PluginStatus, PluginView } from '../schemas/plugins.ts';
import type { GroundworkPlugin, PluginContext } from './define.ts';
import type { RefusedPlugin } from './loader.ts';
import { syncPluginSchema } from './schema-sync.ts';

interface PluginState {
  plugin: GroundworkPlugin | null;
  status: PluginStatus;
  error: string | null;
  ddl: string[];
  /** Its routes() threw: it stays failed for the life of the process (routes are mounted once). */
  routesFailed?: boolean;
}

/** The settings group each plugin's settings live in: id = plugin id, keys `<id>.<name>`. */
export function pluginSettingsGroups(plugins: readonly GroundworkPlugin[]): SettingsGroupDefinition[] {
  return plugins
    .filter((plugin) => Object.keys(plugin.settings).length > 0)
    .map((plugin, index) => ({ id: plugin.id, name: plugin.name, description: `Settings of the ${plugin.name} plugin.`, sortOrder: 1000 + index, settings: plugin.settings }));
}

/**
 * The plugins of this app and how each is doing. A plugin that is refused, fails its schema sync
 * or throws in onDatabaseReady is marked failed; the core and the other plugins carry on.
 */
export class PluginRegistry {
  private readonly states = new Map<string, PluginState>();

  constructor(
    private readonly active: ActiveDatabase,
    loaded: { plugins: GroundworkPlugin[]; refused: RefusedPlugin[] },
    disabled: ReadonlySet<string>,
    private readonly settings: SettingsStore,
    private readonly log: FastifyBaseLogger,
  ) {
    for (const plugin of loaded.plugins) {
      this.states.set(plugin.id, { plugin, status: disabled.has(plugin.id) ? 'disabled' : 'pending', error: null, ddl: [] });
    }
    for (const refusal of loaded.refused) {
      log.error(refusal.message);
      if (!this.states.has(refusal.id)) this.states.set(refusal.id, { plugin: null, status: 'failed', error: refusal.message, ddl: [] });
    }
  }

  get plugins(): GroundworkPlugin[] {
    return [...this.states.values()].flatMap((state) => (state.plugin ? [state.plugin] : []));
  }

  isActive(id: string): boolean {
    return this.states.get(id)?.status === 'active';
  }

  statusOf(id: string): PluginStatus | undefined {
    return this.states.get(id)?.status;
  }

  /** The `plugins` setup phase, under the schema lock: each enabled plugin's tables, one transaction each. */
  async syncSchemas(lockedDb: AppDatabase): Promise<void> {
    const stored = new Map((await lockedDb.select().from(pluginSchemas)).map((row) => [row.pluginId, row]));
    for (const [id, state] of this.states) {
      if (!state.plugin || state.status === 'disabled' || state.routesFailed) continue;
      try {
        state.ddl = await syncPluginSchema(lockedDb, state.plugin, stored.get(id), this.log);
        state.status = 'pending';
        state.error = null;
        if (state.ddl.length > 0) this.log.info({ plugin: id, statements: state.ddl.length }, `Plugin ${id}: tables brought up to date`);
      } catch (error) {
        this.fail(state, id, error);
      }
    }
  }

  /** Once the database is ready: each plugin's onDatabaseReady. A throw fails that plugin only. */
  async start(): Promise<void> {
    for (const [id, state] of this.states) {
      if (!state.plugin || state.status !== 'pending') continue;
      try {
        await state.plugin.onDatabaseReady?.(this.contextFor(state.plugin));
        state.status = 'active';
      } catch (error) {
        this.fail(state, id, error);
      }
    }
  }

  /** Registering the plugin's routes threw: mark it failed so GET /api/plugins says why. */
  failRoutes(id: string, error: unknown): void {
    const state = this.states.get(id);
    if (!state) return;
    state.routesFailed = true;
    this.fail(state, id, error);
  }

  contextFor(plugin: GroundworkPlugin): PluginContext {
    return {
      id: plugin.id,
      tables: plugin.tables,
      log: this.log.child({ plugin: plugin.id }),
      db: () => this.active.db as unknown as ReturnType<PluginContext['db']>,
      setting: (name: string) => this.settings.value(`${plugin.id}.${name}`) as never,
    };
  }

  list(): PluginView[] {
    return [...this.states.entries()].map(([id, state]) => ({
      id,
      name: state.plugin?.name ?? null,
      version: state.plugin?.version ?? null,
      status: state.status,
      tables: state.plugin ? Object.values(state.plugin.tables).map((table) => getTableConfig(table).name) : [],
      error: state.error,
      ddl_statements: state.ddl.length,
    }));
  }

  private fail(state: PluginState, id: string, error: unknown): void {
    state.status = 'failed';
    state.error = rootMessage(error);
    this.log.error({ plugin: id }, `Plugin ${id} failed: ${state.error}`);
  }
}
