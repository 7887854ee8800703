import { Worker } from 'node:worker_threads';

/** One statement run on a new cluster: SQL text, with its parameters ($1, $2…) if any. */
export interface ClusterStatement {
  sql: string;
  params?: unknown[];
}

// Runs in the worker: create the cluster (initdb), run the statements in one transaction, close cleanly.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.pgliteUrl)
  .then(async ({ PGlite }) => {
    const db = await PGlite.create(workerData.dataDir);
    try {
      await db.transaction(async (tx) => { for (const s of workerData.statements) await tx.query(s.sql, s.params); });
    } finally {
      await db.close();
    }
  })
  .then(() => parentPort.postMessage({ ok: true }), (error) => parentPort.postMessage({ ok: false, message: String(error && error.message || error) }));
`;

/**
 * Creates a new PGlite cluster (initdb) in `dataDir` and runs `statements` on it, in a worker
 * thread. initdb grows PGlite's WebAssembly memory to ~0.8 GB, and WebAssembly memory never
 * shrinks: done in the server's own thread, the process would keep it until restart. The worker's
 * memory goes away with the worker.
 */
export async function createClusterInWorker(dataDir: string, statements: ClusterStatement[] = []): Promise<void> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { dataDir, statements, pgliteUrl: import.meta.resolve('@electric-sql/pglite') },
  });
  try {
    const result = await new Promise<{ ok: boolean; message?: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`PGlite cluster worker exited with code ${code}`)));
    });
    if (!result.ok) throw new Error(result.message);
  } finally {
    await worker.terminate();
  }
}
