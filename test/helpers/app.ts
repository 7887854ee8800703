import type { Response as LightMyRequestResponse } from 'light-my-request';
import { buildApp, type App } from '../../services/backend/src/app.ts';
import { loadConfig, type Config } from '../../services/backend/src/config.ts';
import { tempDir } from './temp.ts';

export const TEST_SETUP_TOKEN = 'test-setup-token-0123456789';

export interface TestApp {
  app: App;
  config: Config;
  dataDir: string;
  /** Everything the app logged, as raw JSON lines, to assert that no secret is in it. */
  logs: string[];
  setUp(type: 'pglite' | 'postgresql', token?: string): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/**
 * An app built in this process with its own persistent data folder, booted like the server boots.
 * `env` is the environment it reads (SETUP_TOKEN defaults to TEST_SETUP_TOKEN).
 */
export async function startApp(env: Record<string, string> = {}, options: { dataDir?: string } = {}): Promise<TestApp> {
  const folder = options.dataDir ? null : tempDir();
  const dataDir = options.dataDir ?? folder!.path;
  const config = loadConfig({ PERSISTENT_DATA_DIR: dataDir, SETUP_TOKEN: TEST_SETUP_TOKEN, LOG_LEVEL: 'debug', ...env });
  const logs: string[] = [];
  const app = await buildApp(config, { logStream: { write: (line) => logs.push(line) }, frontendDistDir: '/nonexistent' });
  await app.boot.start('http://localhost:0');
  return {
    app,
    config,
    dataDir,
    logs,
    setUp: (type, token = TEST_SETUP_TOKEN) =>
      app.inject({ method: 'POST', url: '/api/db/setup', headers: { 'x-setup-token': token }, payload: { type } }),
    async close() {
      await app.close();
      folder?.remove();
    },
  };
}
