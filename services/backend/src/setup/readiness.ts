import type { FastifyBaseLogger } from 'fastify';
import type { ActiveDatabase } from '../db/active-database.ts';
import type { DatabaseDriver } from '../db/drivers/index.ts';
import { rootMessage } from '../errors.ts';
import type { SetupStatus } from './setup-status.ts';

/** `reason` is for anyone; `detail` (hosts, folders, key ids) only for callers that may see it. */
export type Readiness = { ready: true } | { ready: false; reason: string; detail?: string };

const READINESS_CACHE_MS = 2_000;
const PING_TIMEOUT_MS = 1_500;

/**
 * For /api/health/ready: set up and the database answers. One ping at a time, its answer kept for
 * 2 s, so load balancers polling many times a second cost the database nothing.
 */
export class ReadinessProbe {
  /** The last answer, and the driver it is about: a database swapped in since is asked afresh. */
  private lastPing: { at: number; driver: DatabaseDriver; result: Readiness } | null = null;
  private pendingPing: Promise<Readiness> | null = null;

  constructor(
    private readonly status: SetupStatus,
    private readonly active: ActiveDatabase,
    private readonly log: FastifyBaseLogger,
  ) {}

  async check(): Promise<Readiness> {
    const driver = this.active.current;
    if (!this.status.isServing() || !driver) {
      const reason = `The database is ${this.status.describe()}.`;
      const detail = this.status.errorDetail;
      return detail === null ? { ready: false, reason } : { ready: false, reason, detail };
    }
    if (this.lastPing?.driver === driver && Date.now() - this.lastPing.at < READINESS_CACHE_MS) return this.lastPing.result;
    this.pendingPing ??= driver
      .ping(PING_TIMEOUT_MS)
      .then(
        (): Readiness => ({ ready: true }),
        (error: unknown): Readiness => ({ ready: false, reason: 'The database does not answer.', detail: rootMessage(error) }),
      )
      .then((result) => {
        // Logged when readiness is lost, not at every probe of a load balancer.
        if (!result.ready && this.lastPing?.result.ready !== false) this.log.warn(`Not ready: ${result.detail}`);
        this.lastPing = { at: Date.now(), driver, result };
        this.pendingPing = null;
        return result;
      });
    return this.pendingPing;
  }
}
