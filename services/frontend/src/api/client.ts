/** Typed access to the backend API. Every failure becomes an ApiError with a plain message. */

export type DatabaseType = 'pglite' | 'postgresql';
export type SetupState = 'unconfigured' | 'setting_up' | 'ready' | 'error';

export interface DbStatus {
  configured: boolean;
  initialized: boolean;
  dialect: 'postgresql' | null;
  type: DatabaseType | null;
  state: SetupState;
  phase?: string;
  error?: string;
}

/** The phases of setup, in the order the server runs them (GET /api/db/status reports the current one). */
export const SETUP_PHASES = ['connect', 'migrate', 'settings', 'plugins', 'commit'] as const;
export type SetupPhase = (typeof SETUP_PHASES)[number];

export interface SetupResult {
  message: string;
  restart_required: boolean;
  database_type: DatabaseType;
  /** The admin API token, shown this once (absent when setup made none). */
  admin_token?: string;
}

export interface ConnectionTestResult {
  ok: true;
  type: DatabaseType;
  version: string;
  round_trip_ms: number;
}

/** What the server read from its environment about PostgreSQL; never the password. */
export interface DatabaseEnvironment {
  postgresql: {
    configured: boolean;
    host?: string;
    port?: number;
    database?: string;
    user?: string;
    ssl?: boolean;
  };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Any thrown value as an ApiError, so callers handle one kind of failure. */
export function toApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(0, 'unknown', error instanceof Error ? error.message : String(error));
}

function isErrorBody(body: unknown): body is { error: string; message: string } {
  return typeof body === 'object' && body !== null && 'error' in body && 'message' in body
    && typeof body.error === 'string' && typeof body.message === 'string';
}

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  let response: Response;
  try {
    // no-store: the setup state changes under us, a cached answer would be wrong.
    response = await fetch(path, { cache: 'no-store', ...init });
  } catch {
    throw new ApiError(0, 'network_error', 'Could not reach the server. Check that it is running.');
  }
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok && isErrorBody(body)) throw new ApiError(response.status, body.error, body.message);
  if (!response.ok || body === null) {
    throw new ApiError(response.status, 'bad_response', `The server gave an unexpected answer (HTTP ${response.status}).`);
  }
  return body as T;
}

export function getStatus(): Promise<DbStatus> {
  return request<DbStatus>('/api/db/status');
}

export function setUp(type: DatabaseType, token: string): Promise<SetupResult> {
  return request<SetupResult>('/api/db/setup', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Setup-Token': token },
    body: JSON.stringify({ type }),
  });
}

/** Checks that the database answers, without setting anything up. */
export function testConnection(type: DatabaseType, token: string): Promise<ConnectionTestResult> {
  return request<ConnectionTestResult>('/api/db/test', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Setup-Token': token },
    body: JSON.stringify({ type }),
  });
}

/** The PostgreSQL settings the server read from its environment (needs the setup token). */
export function getDatabaseEnvironment(token: string): Promise<DatabaseEnvironment> {
  return request<DatabaseEnvironment>('/api/db/environment', { headers: { 'X-Setup-Token': token } });
}

/**
 * Calls `onResult` with the status every `everyMs` until the returned function is called.
 * The next request starts only after the last one answered, so a slow server is not flooded.
 */
export function pollStatus(everyMs: number, onResult: (result: DbStatus | ApiError) => void): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async (): Promise<void> => {
    const result = await getStatus().catch((error: unknown) =>
      error instanceof ApiError ? error : new ApiError(0, 'unknown', String(error)));
    if (stopped) return;
    onResult(result);
    timer = setTimeout(() => void tick(), everyMs);
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
