import { Worker } from 'node:worker_threads';

// Runs in the worker: create the cluster, then close it cleanly.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.pgliteUrl)
  .then(async ({ PGlite }) => { const db = await PGlite.create(workerData.dataDir); await db.close(); })
  .then(() => parentPort.postMessage({ ok: true }), (error) => parentPort.postMessage({ ok: false, message: String(error && error.message || error) }));
`;

/**
 * Creates a new PGlite cluster (initdb) in a worker thread. initdb grows PGlite's WebAssembly
 * memory to ~0.8 GB, and WebAssembly memory never shrinks: done in the server's own thread, the
 * process would keep it until restart. The worker's memory goes away with the worker.
 */
export async function initdbInWorker(dataDir: string): Promise<void> {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { dataDir, pgliteUrl: import.meta.resolve('@electric-sql/pglite') } });
  try {
    const result = await new Promise<{ ok: boolean; message?: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`initdb worker exited with code ${code}`)));
    });
    if (!result.ok) throw new Error(result.message);
  } finally {
    await worker.terminate();
  }
}
