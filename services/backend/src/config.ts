import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { DEFAULT_PERSISTENT_DATA_DIR, DEFAULT_PLUGINS_DIR } from './paths.ts';
import { DATABASE_TYPES, type DatabaseType } from './schemas/database.ts';
import type { LogFormat } from './log-format.ts';

export type { DatabaseType } from './schemas/database.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const LOG_FORMATS = ['json', 'pretty'] as const satisfies readonly LogFormat[];

/** The environment the server reads, with defaults. Every name here is documented in the README. */
export const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  PERSISTENT_DATA_DIR: Type.String({ minLength: 1, default: DEFAULT_PERSISTENT_DATA_DIR }),
  LOG_LEVEL: Type.Enum(LOG_LEVELS, { default: 'info' }),
  LOG_FORMAT: Type.Optional(Type.Enum(LOG_FORMATS)),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATABASE_DIRECT_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATABASE_POOL_MODE: Type.Enum(['auto', 'transaction', 'session'], { default: 'auto' }),
  POSTGRES_HOST: Type.Optional(Type.String({ minLength: 1 })),
  POSTGRES_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 5432 }),
  POSTGRES_DATABASE: Type.Optional(Type.String({ minLength: 1 })),
  POSTGRES_USER: Type.Optional(Type.String({ minLength: 1 })),
  POSTGRES_PASSWORD: Type.Optional(Type.String()),
  POSTGRES_SSL: Type.Boolean({ default: false }),
  DB_POOL_MAX: Type.Integer({ minimum: 1, maximum: 1000, default: 10 }),
  DB_QUERY_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 15_000 }),
  DB_TYPE: Type.Optional(Type.Enum(DATABASE_TYPES)),
  SETUP_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  ENCRYPTION_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  PLUGINS_DIR: Type.String({ minLength: 1, default: DEFAULT_PLUGINS_DIR }),
  PLUGINS_DISABLED: Type.String({ default: '', pattern: '^[a-z0-9_, ]*$' }),
  HTTP_REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 30_000 }),
  HTTP_HEADERS_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 10_000 }),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 5_000 }),
  HTTP_IDLE_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 120_000 }),
  HTTP_MAX_CONNECTIONS: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 500 }),
  ALLOWED_HOSTS: Type.Optional(Type.String()),
  PGLITE_SOCKET_PORT: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  METRICS_ENABLED: Type.Boolean({ default: false }),
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  /** For tests only: another migrations folder than the release's drizzle/ (read by paths.ts). */
  GROUNDWORK_MIGRATIONS_DIR: Type.Optional(Type.String({ minLength: 1 })),
});
type Env = Static<typeof EnvSchema>;

/** Where the PostgreSQL server is, as shown to people (never the password). */
interface PostgresTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  ssl: boolean;
}

export interface PostgresSettings {
  target: PostgresTarget;
  /** Passed to node-postgres as they are. */
  connection: { connectionString: string } | { host: string; port: number; database: string; user: string; password?: string; ssl?: boolean };
  /** Kept apart so it can be scrubbed from any message. */
  password: string | undefined;
  /**
   * DATABASE_DIRECT_URL: the server itself, past a pooler, for schema work and LISTEN (the pool
   * keeps the settings above). Unset: everything goes through the settings above.
   */
  direct?: PostgresSettings;
  /** DATABASE_POOL_MODE: whether the settings above reach a transaction pooler ('auto': find out at connect). */
  poolMode?: 'auto' | 'transaction' | 'session';
}

/** How the HTTP server treats slow, idle and surplus connections, and which Host names it answers to. */
export interface HttpLimits {
  /** The whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** The headers must arrive within this. */
  headersTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
  /** A connection with no traffic either way for this long is closed, even mid-request. */
  idleTimeoutMs: number;
  maxConnections: number;
  /** Lower-case host names the Host header may name; null: decided by the listening address. */
  allowedHosts: readonly string[] | null;
}

export interface Config {
  port: number;
  host: string;
  persistentDataDir: string;
  logLevel: (typeof LOG_LEVELS)[number];
  /** null: pretty when stdout is a terminal, else JSON. */
  logFormat: LogFormat | null;
  postgres: PostgresSettings | null;
  poolMax: number;
  /** How long a request's query may wait for PostgreSQL before it fails with a 503 (not schema work). */
  queryTimeoutMs: number;
  dbType: DatabaseType | null;
  setupToken: string | null;
  /** Derives the key for encrypted settings; without it a key file is generated at setup. */
  encryptionSecret: string | null;
  pluginsDir: string;
  /** Plugin ids that are loaded but left alone: no DDL, no hooks, routes answer 503. */
  disabledPlugins: ReadonlySet<string>;
  http: HttpLimits;
  /** Serve the embedded database over the PostgreSQL protocol on 127.0.0.1 at this port; null: off. */
  pgliteSocketPort: number | null;
  /** GET /metrics (Prometheus): off unless enabled; with a token, only for `Authorization: Bearer <token>`. */
  metrics: { enabled: boolean; token: string | null };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Placeholders like `aaaaaaaaaaaaaaaa` or `abababababababab` pass the length rule but are guessed at once. */
const MIN_SETUP_TOKEN_DISTINCT_CHARACTERS = 5;

const POSTGRES_PART_NAMES = ['POSTGRES_HOST', 'POSTGRES_DATABASE', 'POSTGRES_USER', 'POSTGRES_PASSWORD'] as const;

/** Reads and validates the environment; throws a ConfigError that lists every problem at once. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // Empty variables count as unset, as docker-compose writes `FOO=` for "no value".
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = source[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const env = Value.Convert(EnvSchema, Value.Default(EnvSchema, raw));
  const problems = Value.Errors(EnvSchema, env).map((error) => describeEnvError(error.instancePath, error.message, raw));
  if (problems.length > 0) throw new ConfigError(problems);

  const valid = env as Env;
  const postgres = readPostgresSettings(valid, problems);
  if (valid.SETUP_TOKEN && new Set(valid.SETUP_TOKEN).size < MIN_SETUP_TOKEN_DISTINCT_CHARACTERS) {
    problems.push(`SETUP_TOKEN is too easy to guess (fewer than ${MIN_SETUP_TOKEN_DISTINCT_CHARACTERS} different characters): use a random value such as \`openssl rand -hex 16\`, or leave it unset to have one generated.`);
  }
  if (valid.METRICS_TOKEN && new Set(valid.METRICS_TOKEN).size < MIN_SETUP_TOKEN_DISTINCT_CHARACTERS) {
    problems.push(`METRICS_TOKEN is too easy to guess (fewer than ${MIN_SETUP_TOKEN_DISTINCT_CHARACTERS} different characters): use a random value such as \`openssl rand -hex 16\`.`);
  }
  if (valid.DB_TYPE === 'postgresql' && !postgres && problems.length === 0) {
    problems.push('DB_TYPE=postgresql needs DATABASE_URL or POSTGRES_HOST, POSTGRES_DATABASE and POSTGRES_USER.');
  }
  const allowedHosts = valid.ALLOWED_HOSTS === undefined ? null : readAllowedHosts(valid.ALLOWED_HOSTS, problems);
  if (valid.HTTP_HEADERS_TIMEOUT_MS > valid.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push('HTTP_HEADERS_TIMEOUT_MS must not be longer than HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request).');
  }
  if (valid.PGLITE_SOCKET_PORT === valid.PORT) {
    problems.push(`PGLITE_SOCKET_PORT must differ from PORT (both are ${valid.PORT}): the HTTP server already listens there.`);
  }
  if (valid.GROUNDWORK_MIGRATIONS_DIR && !existsSync(join(resolve(valid.GROUNDWORK_MIGRATIONS_DIR), 'meta', '_journal.json'))) {
    problems.push(`GROUNDWORK_MIGRATIONS_DIR (for tests only) must be a migrations folder with meta/_journal.json; ${resolve(valid.GROUNDWORK_MIGRATIONS_DIR)} has none.`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    port: valid.PORT,
    host: valid.HOST,
    persistentDataDir: resolve(valid.PERSISTENT_DATA_DIR),
    logLevel: valid.LOG_LEVEL,
    logFormat: valid.LOG_FORMAT ?? null,
    postgres,
    poolMax: valid.DB_POOL_MAX,
    queryTimeoutMs: valid.DB_QUERY_TIMEOUT_MS,
    dbType: valid.DB_TYPE ?? null,
    setupToken: valid.SETUP_TOKEN ?? null,
    encryptionSecret: valid.ENCRYPTION_SECRET ?? null,
    pluginsDir: resolve(valid.PLUGINS_DIR),
    disabledPlugins: new Set(valid.PLUGINS_DISABLED.split(',').map((id) => id.trim()).filter(Boolean)),
    http: {
      requestTimeoutMs: valid.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: valid.HTTP_HEADERS_TIMEOUT_MS,
      keepAliveTimeoutMs: valid.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      idleTimeoutMs: valid.HTTP_IDLE_TIMEOUT_MS,
      maxConnections: valid.HTTP_MAX_CONNECTIONS,
      allowedHosts,
    },
    pgliteSocketPort: valid.PGLITE_SOCKET_PORT ?? null,
    metrics: { enabled: valid.METRICS_ENABLED, token: valid.METRICS_TOKEN ?? null },
  };
}

function describeEnvError(instancePath: string, message: string, raw: Record<string, unknown>): string {
  const name = instancePath.replace(/^\//, '');
  const shown = /PASSWORD|TOKEN|SECRET|_URL$/.test(name) ? '(hidden)' : JSON.stringify(raw[name]);
  if (name === 'SETUP_TOKEN') return 'SETUP_TOKEN must be at least 16 characters long.';
  if (name === 'METRICS_TOKEN') return 'METRICS_TOKEN must be at least 16 characters long (e.g. `openssl rand -hex 16`).';
  if (name === 'ENCRYPTION_SECRET') return 'ENCRYPTION_SECRET must be at least 32 characters long (e.g. `openssl rand -base64 32`).';
  if (name === 'LOG_FORMAT') return `LOG_FORMAT must be json or pretty (got ${shown}); unset, it is pretty when stdout is a terminal and json otherwise.`;
  if (name === 'DATABASE_URL' || name === 'DATABASE_DIRECT_URL') return `${name} must start with postgres:// or postgresql://.`;
  return `${name} ${message} (got ${shown}).`;
}

// A host name, an IPv4 address or a bracketed IPv6 address, as the Host header carries them (no port).
const HOST_NAME = /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)$/;

function readAllowedHosts(value: string, problems: string[]): string[] {
  const hosts = value.split(',').map((host) => host.trim().toLowerCase());
  const invalid = hosts.filter((host) => !HOST_NAME.test(host));
  if (invalid.length > 0) {
    problems.push(`ALLOWED_HOSTS must list host names without scheme or port, comma-separated (e.g. app.example.com,localhost); not valid: ${invalid.map((host) => JSON.stringify(host)).join(', ')}.`);
  }
  return hosts;
}

function readPostgresSettings(env: Env, problems: string[]): PostgresSettings | null {
  const pooled = readPooledSettings(env, problems);
  if (!env.DATABASE_DIRECT_URL) return pooled && { ...pooled, poolMode: env.DATABASE_POOL_MODE };
  if (!pooled) {
    if (problems.length === 0) problems.push('DATABASE_DIRECT_URL is the direct address beside a pooled one: set DATABASE_URL (or POSTGRES_*) to the pooler too.');
    return null;
  }
  const direct = fromUrl(env.DATABASE_DIRECT_URL, problems, 'DATABASE_DIRECT_URL');
  return direct && { ...pooled, direct, poolMode: env.DATABASE_POOL_MODE };
}

function readPooledSettings(env: Env, problems: string[]): PostgresSettings | null {
  const partsGiven = POSTGRES_PART_NAMES.filter((name) => env[name] !== undefined);
  if (env.DATABASE_URL) {
    if (partsGiven.length > 0) {
      problems.push(`Set either DATABASE_URL or the POSTGRES_* variables, not both (found ${partsGiven.join(', ')}).`);
      return null;
    }
    return fromUrl(env.DATABASE_URL, problems);
  }
  if (partsGiven.length === 0) return null;
  const missing = (['POSTGRES_HOST', 'POSTGRES_DATABASE', 'POSTGRES_USER'] as const).filter((name) => !env[name]);
  if (missing.length > 0) {
    problems.push(`PostgreSQL settings are incomplete: set ${missing.join(', ')} too (or use DATABASE_URL).`);
    return null;
  }
  const target: PostgresTarget = {
    host: env.POSTGRES_HOST!,
    port: env.POSTGRES_PORT,
    database: env.POSTGRES_DATABASE!,
    user: env.POSTGRES_USER!,
    ssl: env.POSTGRES_SSL,
  };
  return {
    target,
    connection: { ...target, password: env.POSTGRES_PASSWORD, ssl: env.POSTGRES_SSL || undefined },
    password: env.POSTGRES_PASSWORD,
  };
}

function fromUrl(url: string, problems: string[], name = 'DATABASE_URL'): PostgresSettings | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    problems.push(`${name} is not a valid URL (expected postgres://user:password@host:5432/database).`);
    return null;
  }
  const sslmode = parsed.searchParams.get('sslmode');
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  return {
    target: {
      host: decodeURIComponent(parsed.hostname) || 'localhost',
      port: Number(parsed.port || 5432),
      database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || decodeURIComponent(parsed.username),
      user: decodeURIComponent(parsed.username),
      ssl: sslmode !== null && sslmode !== 'disable',
    },
    connection: { connectionString: url },
    password,
  };
}

/** "host:port/database", the way errors and the wizard name a PostgreSQL server. */
export function describeTarget(target: PostgresTarget): string {
  return `${target.host}:${target.port}/${target.database}`;
}
