/** Typed access to the backend API. Every failure becomes an ApiError with a plain message. */

// The API's types come from the server's route schemas: one definition, checked on both sides.
import type {
  ConnectionTestResult,
  DatabaseEnvironment,
  DatabaseLocation,
  DatabaseType,
  DbStatus,
  ErrorBody,
  MigrationsList,
  PhaseName,
  PluginView,
  SettingsGroup,
  SetupPhases,
  SetupResult,
  SetupState,
} from '../../../backend/src/schemas/api.ts';

export type {
  ConnectionTestResult,
  DatabaseEnvironment,
  DatabaseLocation,
  DatabaseType,
  DbStatus,
  MigrationsList,
  PhaseName as SetupPhase,
  PluginView,
  SettingsGroup,
  SetupResult,
};
export type { PluginStatus, SettingView } from '../../../backend/src/schemas/api.ts';
export type { SetupState };
/** One phase of setup as the server lists it: its name and the words to show. */
export type SetupPhaseInfo = SetupPhases['phases'][number];

/** A setup state in words ("setting up"), as the server's own messages say it. */
export function describeState(state: SetupState): string {
  return state.replace('_', ' ');
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Set when a setup failed in one of its phases: the server names the phase. */
    readonly phase?: PhaseName,
    /** Set when several settings were refused at once: each refused key with the server's words. */
    readonly fields?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Any thrown value as an ApiError, so callers handle one kind of failure. */
export function toApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(0, 'unknown', error instanceof Error ? error.message : String(error));
}

function isErrorBody(body: unknown): body is ErrorBody {
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
  if (!response.ok && isErrorBody(body)) throw new ApiError(response.status, body.error, body.message, body.phase, body.fields);
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

/** The phases of setup in the order the server runs them, with their labels. */
export async function getSetupPhases(): Promise<SetupPhaseInfo[]> {
  return (await request<SetupPhases>('/api/db/setup/phases')).phases;
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

/** Migrations applied to the database and any still pending (answers only once the database is ready). */
export function getMigrations(): Promise<MigrationsList> {
  return request<MigrationsList>('/api/db/migrations');
}

/** The scheme the backend's requireAdmin reads (services/backend/src/fastify/admin-auth.ts). */
function adminHeaders(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** Global settings by group (needs the admin token). Secrets come without their values. */
export async function getSettingsGroups(token: string): Promise<SettingsGroup[]> {
  return (await request<{ groups: SettingsGroup[] }>('/api/settings', { headers: adminHeaders(token) })).groups;
}

/**
 * Saves several settings of one group (needs the admin token): all or none. null goes back to the
 * default (and clears a secret). A refusal is an ApiError whose `fields` names each refused key.
 */
export function saveSettingsGroup(token: string, groupId: string, values: Record<string, unknown>): Promise<SettingsGroup> {
  return request<SettingsGroup>(`/api/settings/groups/${encodeURIComponent(groupId)}`, {
    method: 'PUT',
    headers: { ...adminHeaders(token), 'Content-Type': 'application/json' },
    body: JSON.stringify({ values }),
  });
}

/** The database's type and where it is (needs the admin token). */
export function getDatabaseLocation(token: string): Promise<DatabaseLocation> {
  return request<DatabaseLocation>('/api/db/location', { headers: adminHeaders(token) });
}

/** Plugins with their status and tables (needs the admin token). */
export async function getPlugins(token: string): Promise<PluginView[]> {
  return (await request<{ plugins: PluginView[] }>('/api/plugins', { headers: adminHeaders(token) })).plugins;
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
