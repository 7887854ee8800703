import type { PhaseName } from './schemas/database.ts';

/**
 * Every error a client sees has one shape: `{ error: <code>, message: <plain words> }`.
 * Code that wants a specific HTTP answer throws an AppError; anything else becomes a 500
 * whose details stay in the log.
 */
export class AppError extends Error {
  /** The setup phase this error stopped, set by the setup runner; the error body names it. */
  phase?: PhaseName;
  /** Several fields refused at once (a settings group): each one's problem; the error body lists them. */
  fields?: Record<string, string>;

  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class DatabaseNotReadyError extends AppError {
  constructor(state = 'not ready') {
    super(503, 'database_not_ready', `The database is ${state}. Finish setup at /setup or check GET /api/db/status.`);
  }
}

/** A write while the server is in maintenance (a move running): try again after `retryAfterSeconds`. */
export class MaintenanceError extends AppError {
  static readonly retryAfterSeconds = 30;
  constructor() {
    super(503, 'maintenance', 'The server is in maintenance (its database is being moved): reads work, writes are refused until it ends. Try again shortly; GET /api/db/status shows the progress.');
  }
}

export class DatabaseUnavailableError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(503, 'database_unavailable', message, options);
  }
}

export class DatabaseLockedError extends AppError {
  constructor(message: string) {
    super(409, 'database_locked', message);
  }
}

export class MigrationFailedError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(500, 'migration_failed', message, options);
  }
}

/** The database applied migrations in another order, or ones this release lacks before ones it has. */
export class SchemaDivergedError extends AppError {
  constructor(message: string) {
    super(409, 'schema_diverged', message);
  }
}

export class StorageError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(500, 'storage_error', message, options);
  }
}

/** The plain message of an error, following `cause` to the driver's own words when a wrapper hides them. */
export function rootMessage(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error && /^Failed query/.test(current.message)) {
    current = current.cause;
  }
  if (current instanceof Error) return current.message || current.name;
  return String(current);
}

// What status and readiness tell a caller without a token, by error code. The full message names
// hosts, users, folders or key ids (a key id lets a guessed ENCRYPTION_SECRET be checked offline),
// so it goes only to the log and to holders of the setup or admin token.
const PUBLIC_MESSAGES: Record<string, string> = {
  database_unavailable: 'The database cannot be reached',
  database_locked: 'The embedded database is in use by another process',
  storage_error: 'The persistent data folder (PERSISTENT_DATA_DIR) cannot be used',
  encryption_key_error: 'The settings encryption key is missing or does not match this database',
  migration_failed: 'A database migration failed',
  schema_diverged: "The database's migration history differs from this release's",
  selection_invalid: 'db.selection.json is not valid. Fix it or remove it to run setup again',
  postgresql_not_configured: 'The server has no PostgreSQL settings',
  move_failed: 'The last move to another database failed; this instance stays on its database',
};

/** The error in words safe for anyone to read: its kind, never where (no host, user, path or key id). */
export function publicMessage(error: unknown): string {
  const known = error instanceof AppError ? PUBLIC_MESSAGES[error.code] : undefined;
  return `${known ?? 'Setup failed'}; the server log has the details.`;
}

const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);

/** Whether an error (or what it wraps) means the database connection failed, not the statement. */
export function isConnectionError(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    const code = (current as { code?: string }).code;
    if (code && CONNECTION_ERROR_CODES.has(code)) return true;
    if (/Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|Query read timeout/i.test(current.message)) return true;
  }
  return false;
}
