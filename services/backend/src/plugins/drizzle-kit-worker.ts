import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

// Runs in the worker: drizzle-kit's snapshot of the plugin's tables (imported again here from the
// plugin's own file) and the statements from `previous` to it. A rejected migration is reported,
// not thrown, so the caller can first say which change would lose data.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { createRequire } = require('node:module');
(async () => {
  const kit = createRequire(workerData.resolveFrom)('drizzle-kit/api');
  let current = workerData.snapshot;
  if (workerData.pluginUrl) {
    if (workerData.tsxUrl) (await import(workerData.tsxUrl)).register();
    current = kit.generateDrizzleJson((await import(workerData.pluginUrl)).default.tables);
  }
  const previous = workerData.previous ?? kit.generateDrizzleJson({});
  try {
    return { ok: true, snapshot: current, previous, statements: await kit.generateMigration(previous, current) };
  } catch (error) {
    return { ok: true, snapshot: current, previous, migrationError: String((error && error.message) || error) };
  }
})().then(
  (result) => parentPort.postMessage(result),
  (error) => parentPort.postMessage({ ok: false, message: String((error && error.message) || error) }),
);
`;

export interface DrizzleKitResult {
  snapshot: unknown;
  /** The snapshot the statements start from (an empty one when there was none). */
  previous: unknown;
  statements?: string[];
  /** drizzle-kit refused to generate the statements (e.g. it would have to ask a person). */
  migrationError?: string;
}

const resolveFrom = import.meta.filename;

/**
 * drizzle-kit in a worker thread: its bundle (~50 MB resident once loaded) goes away with the
 * worker instead of staying in the server for the life of the process. Either `pluginFile` (its
 * tables are read from there) or `snapshot` (already known) says where the statements lead.
 */
export async function runDrizzleKit(request: { pluginFile?: string; snapshot?: unknown; previous?: unknown }): Promise<DrizzleKitResult> {
  // A TypeScript plugin (sources under tsx or vitest; the compiled server loads JavaScript only) needs tsx's loader in the worker.
  const tsxUrl = request.pluginFile?.endsWith('.ts') ? import.meta.resolve('tsx/esm/api') : undefined;
  const workerData = {
    resolveFrom,
    pluginUrl: request.pluginFile ? pathToFileURL(request.pluginFile).href : undefined,
    tsxUrl,
    snapshot: request.snapshot,
    previous: request.previous,
  };
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData, stdin: false });
  try {
    const result = await new Promise<{ ok: boolean; message?: string } & DrizzleKitResult>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`The drizzle-kit worker exited with code ${code}`)));
    });
    if (!result.ok) throw new Error(result.message);
    return result;
  } finally {
    await worker.terminate();
  }
}
