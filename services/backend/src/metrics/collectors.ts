import { Gauge, type Registry } from 'prom-client';
import type { ActiveDatabase } from '../db/active-database.ts';
import type { SettingsStore } from '../global-settings/store.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import { PLUGIN_STATUSES } from '../schemas/plugins.ts';
import type { SetupStatus } from '../setup/setup-status.ts';

/** The parts whose state the metrics show; read only when Prometheus scrapes. */
export interface WatchedParts {
  status: SetupStatus;
  active: ActiveDatabase;
  settings: SettingsStore;
  plugins: PluginRegistry;
}

/** Gauges whose values are read from the app's parts at each scrape, so nothing has to report to them. */
export function watchAppState(registry: Registry, { status, active, settings, plugins }: WatchedParts): void {
  const registers = [registry];

  new Gauge({
    name: 'groundwork_ready',
    help: '1 when setup is done and the instance serves its database (GET /api/db/status says ready), else 0',
    registers,
    collect() {
      this.set(status.isReady() ? 1 : 0);
    },
  });

  // Only a PostgreSQL pool has these: with PGlite (or before setup) they read 0.
  const pool = (name: string, help: string, read: (stats: { total: number; idle: number; waiting: number }) => number) =>
    new Gauge({
      name: `groundwork_db_pool_${name}`,
      help,
      registers,
      collect() {
        const stats = active.current?.poolStats?.();
        this.set(stats ? read(stats) : 0);
      },
    });
  pool('connections', 'PostgreSQL pool: connections open (idle or in use)', (stats) => stats.total);
  pool('idle_connections', 'PostgreSQL pool: open connections not in use', (stats) => stats.idle);
  pool('waiting_requests', 'PostgreSQL pool: queries waiting for a free connection', (stats) => stats.waiting);

  new Gauge({
    name: 'groundwork_settings_cache_version',
    help: 'Setting changes (from any replica) applied to the in-memory settings since start',
    registers,
    collect() {
      this.set(settings.cacheState.version);
    },
  });

  new Gauge({
    name: 'groundwork_settings_last_change_received_timestamp_seconds',
    help: 'When the last setting change notification arrived from the database (Unix time); 0 until one does',
    registers,
    collect() {
      this.set((settings.cacheState.lastChangeReceivedAt ?? 0) / 1000);
    },
  });

  new Gauge({
    name: 'groundwork_plugin_status',
    help: 'Each plugin\'s status: 1 for the current one, 0 for the others',
    labelNames: ['plugin', 'status'] as const,
    registers,
    collect() {
      this.reset();
      for (const plugin of plugins.list()) {
        for (const candidate of PLUGIN_STATUSES) this.set({ plugin: plugin.id, status: candidate }, plugin.status === candidate ? 1 : 0);
      }
    },
  });
}
