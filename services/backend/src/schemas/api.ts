/**
 * The HTTP API's types, derived from the route schemas: one definition for the server and the
 * front end (services/frontend/src/api/client.ts imports these, types only; nothing of the
 * backend is bundled).
 */
export type { ErrorBody } from './common.ts';
export type { ConnectionTestResult, DatabaseEnvironment, DatabaseLocation, DatabaseType, DbStatus, MigrationsList, PhaseName, SetupPhases, SetupResult, SetupState } from './database.ts';
export type { PluginStatus, PluginView } from './plugins.ts';
export type { SettingsGroup, SettingView } from './settings.ts';
