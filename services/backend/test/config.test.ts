import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { DEFAULT_PERSISTENT_DATA_DIR, DEFAULT_PLUGINS_DIR } from '../src/paths.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('has the documented defaults and no database settings', () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      persistentDataDir: DEFAULT_PERSISTENT_DATA_DIR,
      logLevel: 'info',
      logFormat: null,
      postgres: null,
      poolMax: 10,
      queryTimeoutMs: 15_000,
      dbType: null,
      setupToken: null,
      encryptionSecret: null,
      pluginsDir: DEFAULT_PLUGINS_DIR,
      disabledPlugins: new Set(),
      http: { requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000, idleTimeoutMs: 120_000, maxConnections: 500, allowedHosts: null },
      pgliteSocketPort: null,
      metrics: { enabled: false, token: null },
    });
  });

  it('reads the HTTP limits and ALLOWED_HOSTS (lower-cased, spaces trimmed)', () => {
    const config = loadConfig({
      HTTP_REQUEST_TIMEOUT_MS: '5000',
      HTTP_HEADERS_TIMEOUT_MS: '2000',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '65000',
      HTTP_IDLE_TIMEOUT_MS: '90000',
      HTTP_MAX_CONNECTIONS: '20',
      ALLOWED_HOSTS: 'App.Example.com, localhost ,[::1],10.0.0.5',
    });
    expect(config.http).toEqual({
      requestTimeoutMs: 5000,
      headersTimeoutMs: 2000,
      keepAliveTimeoutMs: 65_000,
      idleTimeoutMs: 90_000,
      maxConnections: 20,
      allowedHosts: ['app.example.com', 'localhost', '[::1]', '10.0.0.5'],
    });
  });

  it('reads POSTGRES_* with TLS and keeps the password out of the displayed target', () => {
    const config = loadConfig({ POSTGRES_HOST: 'db', POSTGRES_DATABASE: 'gw', POSTGRES_USER: 'app', POSTGRES_PASSWORD: 's3cret', POSTGRES_SSL: 'true' });
    expect(config.postgres?.target).toEqual({ host: 'db', port: 5432, database: 'gw', user: 'app', ssl: true });
    expect(JSON.stringify(config.postgres?.target)).not.toContain('s3cret');
  });

  it('reads DATABASE_URL', () => {
    const config = loadConfig({ DATABASE_URL: 'postgresql://app:p%40ss@db.internal:6543/groundwork?sslmode=require', DB_TYPE: 'postgresql' });
    expect(config.postgres?.target).toEqual({ host: 'db.internal', port: 6543, database: 'groundwork', user: 'app', ssl: true });
    expect(config.postgres?.password).toBe('p@ss');
    expect(config.dbType).toBe('postgresql');
  });

  it('reads DATABASE_DIRECT_URL beside the pooled URL, and DATABASE_POOL_MODE', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://app:pw@pooler:6432/gw', DATABASE_DIRECT_URL: 'postgres://app:pw@db:5432/gw', DATABASE_POOL_MODE: 'transaction' });
    expect(config.postgres?.target.port).toBe(6432);
    expect(config.postgres?.direct?.target).toEqual({ host: 'db', port: 5432, database: 'gw', user: 'app', ssl: false });
    expect(config.postgres?.poolMode).toBe('transaction');
    expect(loadConfig({ DATABASE_URL: 'postgres://a@b/c' }).postgres?.poolMode).toBe('auto');
  });

  it('serves no PGlite socket unless PGLITE_SOCKET_PORT is set', () => {
    expect(loadConfig({}).pgliteSocketPort).toBeNull();
    expect(loadConfig({ PGLITE_SOCKET_PORT: '' }).pgliteSocketPort).toBeNull();
    expect(loadConfig({ PGLITE_SOCKET_PORT: '5433' }).pgliteSocketPort).toBe(5433);
  });

  it('serves no metrics unless METRICS_ENABLED=true; METRICS_TOKEN guards them', () => {
    expect(loadConfig({ METRICS_ENABLED: 'true', METRICS_TOKEN: '3f9c2a7e1b6d40c8' }).metrics).toEqual({ enabled: true, token: '3f9c2a7e1b6d40c8' });
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', POSTGRES_HOST: '', DB_TYPE: '' }).port).toBe(3000);
  });

  it.each([
    [{ PORT: '70000' }, /PORT/],
    [{ DB_TYPE: 'sqlite' }, /DB_TYPE/],
    [{ LOG_FORMAT: 'xml' }, /LOG_FORMAT must be json or pretty \(got "xml"\); unset, it is pretty when stdout is a terminal/],
    [{ SETUP_TOKEN: 'short' }, /SETUP_TOKEN must be at least 16/],
    [{ SETUP_TOKEN: 'aaaaaaaaaaaaaaaa' }, /SETUP_TOKEN is too easy to guess.*openssl rand/],
    [{ SETUP_TOKEN: 'abcdabcdabcdabcdabcd' }, /SETUP_TOKEN is too easy to guess/],
    [{ DATABASE_URL: 'postgres://a@b/c', POSTGRES_HOST: 'x' }, /either DATABASE_URL or the POSTGRES_\* variables/],
    [{ POSTGRES_HOST: 'db' }, /set POSTGRES_DATABASE, POSTGRES_USER too/],
    [{ DB_TYPE: 'postgresql' }, /DB_TYPE=postgresql needs DATABASE_URL/],
    [{ DATABASE_DIRECT_URL: 'postgres://a@b/c' }, /DATABASE_DIRECT_URL is the direct address beside a pooled one: set DATABASE_URL/],
    [{ DATABASE_URL: 'postgres://a@b/c', DATABASE_DIRECT_URL: 'mysql://a@b/c' }, /DATABASE_DIRECT_URL must start with postgres:\/\//],
    [{ DATABASE_POOL_MODE: 'statement' }, /DATABASE_POOL_MODE/],
    [{ HTTP_REQUEST_TIMEOUT_MS: 'soon' }, /HTTP_REQUEST_TIMEOUT_MS must be integer/],
    [{ HTTP_KEEP_ALIVE_TIMEOUT_MS: '0' }, /HTTP_KEEP_ALIVE_TIMEOUT_MS must be >= 100/],
    [{ HTTP_MAX_CONNECTIONS: '0' }, /HTTP_MAX_CONNECTIONS must be >= 1/],
    [{ HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '6000' }, /HTTP_HEADERS_TIMEOUT_MS must not be longer than HTTP_REQUEST_TIMEOUT_MS/],
    [{ ALLOWED_HOSTS: 'https://app.example.com' }, /ALLOWED_HOSTS must list host names without scheme or port.*"https:\/\/app\.example\.com"/],
    [{ ALLOWED_HOSTS: 'app.example.com:443,,x' }, /ALLOWED_HOSTS .*"app\.example\.com:443", ""/],
    [{ PGLITE_SOCKET_PORT: '70000' }, /PGLITE_SOCKET_PORT must be <= 65535/],
    [{ PGLITE_SOCKET_PORT: '3000' }, /PGLITE_SOCKET_PORT must differ from PORT \(both are 3000\)/],
    [{ PORT: '8080', PGLITE_SOCKET_PORT: '8080' }, /PGLITE_SOCKET_PORT must differ from PORT/],
    [{ METRICS_ENABLED: 'yes' }, /METRICS_ENABLED must be boolean/],
    [{ METRICS_TOKEN: 'short' }, /METRICS_TOKEN must be at least 16 characters long/],
    [{ METRICS_TOKEN: 'abcdabcdabcdabcdabcd' }, /METRICS_TOKEN is too easy to guess.*openssl rand/],
    [{ GROUNDWORK_MIGRATIONS_DIR: '/nonexistent/migrations' }, /GROUNDWORK_MIGRATIONS_DIR \(for tests only\) must be a migrations folder with meta\/_journal.json; \/nonexistent\/migrations has none/],
  ])('refuses %o with a message that says what to do', (env, expected) => {
    expect(problemsOf(env).join('\n')).toMatch(expected);
  });

  it('accepts a random SETUP_TOKEN or a passphrase', () => {
    expect(loadConfig({ SETUP_TOKEN: '3f9c2a7e1b6d40c8' }).setupToken).toBe('3f9c2a7e1b6d40c8');
    expect(loadConfig({ SETUP_TOKEN: 'correct-horse-battery-staple' }).setupToken).toBe('correct-horse-battery-staple');
  });

  it('never repeats a password or token in its messages', () => {
    const problems = problemsOf({ POSTGRES_PASSWORD: 'hunter2', SETUP_TOKEN: 'tiny', DATABASE_URL: 'mysql://u:hunter2@h/d', DATABASE_DIRECT_URL: 'mysql://u:hunter2@h/d' }).join('\n');
    expect(problems).not.toContain('hunter2');
    expect(problems).not.toContain('tiny');
    expect(problemsOf({ SETUP_TOKEN: 'zzzzzzzzzzzzzzzzzzzz' }).join('\n')).not.toContain('zzzz');
    expect(problemsOf({ METRICS_TOKEN: 'tiny' }).join('\n')).not.toContain('tiny');
  });
});
