import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { PhaseName } from '../schemas/database.ts';
import type { SetupObserver } from '../setup/setup-runner.ts';
import { watchAppState, type WatchedParts } from './collectors.ts';

/**
 * One app's metrics (groundwork_*, beside prom-client's process_* and nodejs_*), in a registry of its own (not prom-client's global one), so two apps in one
 * process (the tests build many) never clash. Events are recorded as they happen (requests, setup
 * phases, lock waits); state (pool, settings, plugins, readiness) is read when Prometheus scrapes.
 */
export class AppMetrics implements SetupObserver {
  readonly registry = new Registry();

  private readonly httpDuration = new Histogram({
    name: 'groundwork_http_request_duration_seconds',
    help: 'HTTP requests by route pattern (never the raw URL), method and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [this.registry],
  });

  private readonly phaseDuration = new Histogram({
    name: 'groundwork_setup_phase_duration_seconds',
    help: 'Setup phases that completed (mode: first-time setup or boot), without the wait for the schema lock',
    labelNames: ['phase', 'mode'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  private readonly lockWait = new Histogram({
    name: 'groundwork_schema_lock_wait_seconds',
    help: 'Time taken to get the schema lock at setup or boot (long: another replica does schema work)',
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Reads the app's state at each scrape. */
  watch(parts: WatchedParts): void {
    watchAppState(this.registry, parts);
  }

  /** `route` is the route's pattern (`/api/settings/:key`), so the label set stays small. */
  requestFinished(method: string, route: string, statusCode: number, seconds: number): void {
    this.httpDuration.observe({ method, route, status_code: statusCode }, seconds);
  }

  phaseCompleted(phase: PhaseName, mode: 'first-time' | 'boot', seconds: number): void {
    this.phaseDuration.observe({ phase, mode }, seconds);
  }

  lockWaited(seconds: number): void {
    this.lockWait.observe(seconds);
  }

  /** The exposition text and its content type, for GET /metrics. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
