import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EnvSchema } from '../../services/backend/src/config.ts';
import { REPO_ROOT } from '../../services/backend/src/paths.ts';

// No Docker engine runs on the development machines: these check the files' structure instead.

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile → instructions grouped by stage, with line continuations joined and comments dropped. */
function dockerfileStages(text: string): Instruction[][] {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  const stages: Instruction[][] = [];
  for (const line of lines) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
}

const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'));
const stages = dockerfileStages(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
const runtime = stages.at(-1)!;
const args = (keyword: string) => runtime.filter((i) => i.keyword === keyword).map((i) => i.args);

describe('Dockerfile', () => {
  it('builds in one stage and runs from another with production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(args('RUN').some((run) => run.includes('npm ci --omit=dev'))).toBe(true);
    expect(args('COPY').some((copy) => copy.startsWith('--from=build'))).toBe(true);
    expect(args('RUN').some((run) => /npm run build|npm ci --no-audit/.test(run))).toBe(false);
  });

  it('runs the compiled server with plain node on the current Node LTS, no TypeScript in the runtime stage', () => {
    for (const stage of stages) expect(stage[0]!.args).toMatch(/^node:24-bookworm-slim\b/);
    // The same node options as `npm start`.
    const start = (JSON.parse(readFileSync(join(REPO_ROOT, 'services/backend/package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    expect(start).toMatch(/^node( --[\w-]+(=\S+)?)* dist\/src\/server\.js$/);
    const options = start.split(' ').slice(1, -1);
    expect(args('CMD')).toEqual([JSON.stringify(['node', ...options, 'services/backend/dist/src/server.js']).replaceAll('","', '", "')]);
    expect(args('COPY')).toContain('--from=build /app/services/backend/dist ./services/backend/dist');
    const runtimeText = runtime.map((i) => `${i.keyword} ${i.args}`).join('\n');
    expect(runtimeText).not.toMatch(/tsx|services\/backend\/(src|plugins)\b/);
  });

  it('runs as a non-root user, with a persistent_data volume, listening on all interfaces, healthchecked on readiness', () => {
    const user = args('USER').at(-1);
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(args('VOLUME').join(' ')).toContain('/app/persistent_data');
    expect(args('ENV').join(' ')).toMatch(/HOST=0\.0\.0\.0/);
    expect(args('ENV').join(' ')).toMatch(/PERSISTENT_DATA_DIR=\/app\/persistent_data/);
    expect(args('HEALTHCHECK').join(' ')).toContain('/api/health/ready');
  });

  it('has a pg_dump at least as new as the PostgreSQL in docker-compose.yml, for db:backup', () => {
    const client = args('RUN').join(' ').match(/apt-get install [^&]*postgresql-client-(\d+)/);
    expect(client).not.toBeNull();
    const serverMajor = Number(/^postgres:(\d+)/.exec(compose.services.postgres.image as string)?.[1]);
    expect(Number(client![1])).toBeGreaterThanOrEqual(serverMajor);
  });

  it('bakes no secret into the image', () => {
    expect(args('ENV').join(' ')).not.toMatch(/PASSWORD|SECRET|TOKEN/);
  });
});

describe('docker-compose.yml', () => {
  const { postgres, app } = compose.services;

  it('runs the official PostgreSQL image with a volume and a pg_isready healthcheck', () => {
    expect(postgres.image).toMatch(/^postgres:\d+/);
    expect(postgres.volumes.some((volume: string) => volume.endsWith(':/var/lib/postgresql/data'))).toBe(true);
    expect(postgres.healthcheck.test.join(' ')).toContain('pg_isready');
  });

  it('builds the app, waits for a healthy PostgreSQL and sets it up headlessly', () => {
    expect(app.build).toBe('.');
    expect(app.depends_on.postgres.condition).toBe('service_healthy');
    expect(app.environment).toMatchObject({ DB_TYPE: 'postgresql', HOST: '0.0.0.0', POSTGRES_HOST: 'postgres' });
    expect(app.volumes.some((volume: string) => volume.endsWith(':/app/persistent_data'))).toBe(true);
    expect(app.healthcheck.test.join(' ')).toContain('/api/health/ready');
  });

  it('only sets variables the server reads, and takes secrets from the environment, not the file', () => {
    const known = Object.keys(EnvSchema.properties);
    expect(Object.keys(app.environment).filter((name) => !known.includes(name))).toEqual([]);
    for (const [name, value] of Object.entries<string>({ ...app.environment, POSTGRES_PASSWORD_DB: postgres.environment.POSTGRES_PASSWORD })) {
      if (/PASSWORD|SECRET|TOKEN/.test(name)) expect(value).toMatch(/^\$\{[A-Z_]+:\?/);
    }
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(['postgres-data', 'app-data']));
  });
});

describe('.dockerignore', () => {
  const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim());

  it('keeps .env (the compose secrets) and local state out of the build context', () => {
    expect(ignored).toEqual(expect.arrayContaining(['.env', 'persistent_data', 'node_modules']));
    expect(ignored).not.toContain('!.env');
  });
});
