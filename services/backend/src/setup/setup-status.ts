import type { DatabaseType } from '../config.ts';
import { DatabaseNotReadyError, publicMessage, rootMessage } from '../errors.ts';
import type { DbStatus, Maintenance, PhaseName, SetupState } from '../schemas/database.ts';

/**
 * What GET /api/db/status reports, kept in memory so status never touches the database. The setup
 * runner and the boot sequence change it through the transitions below; nothing else writes it.
 */
export class SetupStatus {
  private state: SetupState = 'unconfigured';
  private phase: PhaseName | null = null;
  private type: DatabaseType | null = null;
  private configured = false;
  /** The last error: `message` for anyone, `detail` (hosts, folders, key ids) for the log and token holders. */
  private lastError: { message: string; detail: string } | null = null;
  /** A db.selection.json that cannot be trusted: setup stays refused until an operator fixes it. */
  private selectionProblemText: string | null = null;
  /** At boot, the environment's PostgreSQL does not answer yet: whether it is set up is unknown. */
  private probingFlag = false;
  /** While `maintenance`: the operation and its progress. */
  private maintenanceInfo: Maintenance | null = null;

  /** `withDetail`: add the full error, for a caller holding the setup or admin token. */
  snapshot(withDetail = false): DbStatus {
    const status: DbStatus = {
      configured: this.configured,
      initialized: this.isServing(),
      dialect: this.type ? 'postgresql' : null,
      type: this.type,
      state: this.state,
    };
    if (this.state === 'setting_up' && this.phase) status.phase = this.phase;
    if (this.state === 'maintenance' && this.maintenanceInfo) status.maintenance = { ...this.maintenanceInfo };
    if (this.lastError) {
      status.error = this.lastError.message;
      if (withDetail) status.detail = this.lastError.detail;
    }
    return status;
  }

  isReady(): boolean {
    return this.state === 'ready';
  }

  /** Ready, or in maintenance: the database answers reads (writes wait for the maintenance to end). */
  isServing(): boolean {
    return this.state === 'ready' || this.state === 'maintenance';
  }

  get isInMaintenance(): boolean {
    return this.state === 'maintenance';
  }

  get isConfigured(): boolean {
    return this.configured;
  }

  get isSettingUp(): boolean {
    return this.state === 'setting_up';
  }

  get isProbing(): boolean {
    return this.probingFlag;
  }

  get selectionProblem(): string | null {
    return this.selectionProblemText;
  }

  get errorDetail(): string | null {
    return this.lastError?.detail ?? null;
  }

  /** "not ready", "setting up", …: the state in words, for messages. */
  describe(): string {
    return this.state.replace('_', ' ');
  }

  /** The 503 for a route that needs the database now. */
  notReadyError(): DatabaseNotReadyError {
    return new DatabaseNotReadyError(this.describe());
  }

  /** Keeps the error for status; returns its full words, for the log. */
  recordError(error: unknown): string {
    const detail = rootMessage(error);
    this.lastError = { message: publicMessage(error), detail };
    return detail;
  }

  /** Adds a note (such as when the next try comes) to the error in both its forms. */
  appendToError(note: string): void {
    const join = (text: string) => `${text}${/[.!?]$/.test(text) ? '' : '.'} ${note}`;
    if (this.lastError) this.lastError = { message: join(this.lastError.message), detail: join(this.lastError.detail) };
  }

  // Transitions.

  /** A db.selection.json names a database: this instance was set up before. */
  markConfigured(): void {
    this.configured = true;
  }

  /** A run of the phases starts; set before its first await, so a concurrent caller sees `setting_up`. */
  begin(type: DatabaseType): void {
    this.state = 'setting_up';
    this.type = type;
    this.phase = null;
  }

  enterPhase(phase: PhaseName): void {
    this.phase = phase;
  }

  succeed(): void {
    this.state = 'ready';
    this.phase = null;
    this.configured = true;
    this.lastError = null;
  }

  /** A run failed: a first-time setup goes back to unconfigured, a boot stays in error (and retries). */
  fail(error: unknown, mode: 'first-time' | 'boot'): string {
    const detail = this.recordError(error);
    this.phase = null;
    if (mode === 'first-time') {
      this.state = 'unconfigured';
      this.type = null;
    } else {
      this.state = 'error';
    }
    return detail;
  }

  /** Boot cannot go on until an operator acts (unsafe folder, untrusted file). */
  refuse(error: unknown, selectionProblem?: string): string {
    this.state = 'error';
    if (selectionProblem) this.selectionProblemText = selectionProblem;
    return this.recordError(error);
  }

  /**
   * Boot asks the environment's PostgreSQL whether it is set up already; until it can tell, status
   * shows it connecting and setup waits. With `error`: it cannot be reached (retried).
   */
  probing(error?: unknown): string | null {
    this.probingFlag = true;
    this.state = 'setting_up';
    this.phase = 'connect';
    return error === undefined ? null : this.recordError(error);
  }

  /** A ready instance starts a maintenance operation: writes are refused until it ends. */
  beginMaintenance(target: DatabaseType): void {
    if (this.state !== 'ready') throw new Error(`Maintenance starts only from ready, not ${this.state}`);
    this.state = 'maintenance';
    this.maintenanceInfo = { operation: 'move', target, stage: 'preparing', table: null, rows_done: 0, rows_total: 0 };
  }

  updateMaintenance(progress: Partial<Omit<Maintenance, 'operation' | 'target'>>): void {
    if (this.maintenanceInfo) Object.assign(this.maintenanceInfo, progress);
  }

  /** Back to ready: on `type` after a move that switched, else (with the error) on the database it had. */
  endMaintenance(outcome: { type: DatabaseType } | { error: unknown }): string | null {
    this.state = 'ready';
    this.maintenanceInfo = null;
    if ('type' in outcome) {
      this.type = outcome.type;
      this.lastError = null;
      return null;
    }
    return this.recordError(outcome.error);
  }

  /** The probe answered: the instance waits for the wizard. */
  awaitSetup(): void {
    this.probingFlag = false;
    this.state = 'unconfigured';
    this.phase = null;
    this.lastError = null;
  }
}
