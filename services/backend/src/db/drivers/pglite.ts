import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { DatabaseUnavailableError, StorageError } from '../../errors.ts';
import { makePrivate } from '../../storage.ts';
import { applyMigrations } from '../migrations.ts';
import * as schema from '../schema/index.ts';
import { acquireLockFile } from './lock-file.ts';
import { claimPreparedCluster } from './pglite-preparation.ts';
import { preloadPgliteRuntime, takePgliteRuntime } from './pglite-runtime.ts';
import { createPgliteCluster, DEFAULT_TEMPLATE_SOURCE, EMPTY_TEMPLATE_SOURCE } from './pglite-template.ts';
import type { PgliteSocket } from './pglite-socket.ts';
import { withTimeout } from './timeout.ts';
import type { DatabaseDriver, DriverLog } from './types.ts';

const LOCK_FILE_NAME = 'groundwork.lock';

// PostgreSQL's default shared_buffers (128 MB) lives in PGlite's WebAssembly memory, which never
// shrinks: pages once touched stay resident. A small embedded database needs far less; 16 MB took
// ~110 MB off the idle server (8 MB measured no lower). `initialMemory` cannot help: the module
// declares 128 MB as its minimum, and untouched pages cost nothing.
export const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

/** Starts PGlite on the cluster in `dataDir`, with the runtime compiled ahead when there is one. */
export async function startPglite(dataDir: string): Promise<PGlite> {
  return PGlite.create(dataDir, { startParams: PGLITE_START_PARAMS, ...(await takePgliteRuntime()) });
}

interface PgliteOptions {
  /** Also serve the database over the PostgreSQL wire protocol on 127.0.0.1 at this port (PGLITE_SOCKET_PORT). */
  socketPort: number | null;
  log: DriverLog;
  /** What a folder this call creates holds: this release's tables (a setup) or nothing (a move or restore fills it). */
  newCluster: 'migrated' | 'empty';
}

async function discardMoved(client: PGlite, dataDir: string): Promise<void> {
  await client.close().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
}

/** Opens (creating on first use) the embedded database in `dataDir`, held exclusively by this process. */
export async function openPglite(dataDir: string, { socketPort, log, newCluster }: PgliteOptions): Promise<DatabaseDriver> {
  const isNew = !existsSync(join(dataDir, 'PG_VERSION'));
  // A setup's database, made and started while the server waited for the wizard: moved into place.
  const prepared = isNew && newCluster === 'migrated' ? await claimPreparedCluster(dataDir) : null;
  // Otherwise PGlite's WebAssembly compiles in the background (if not preloaded already) while the folder is prepared.
  if (!prepared) preloadPgliteRuntime();
  let lock: ReturnType<typeof acquireLockFile>;
  try {
    try {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new StorageError(`Cannot create the embedded database folder ${dataDir}: ${(error as Error).message}`, { cause: error });
    }
    // PGlite creates its files 0666 whatever the umask, and the template's copies are 0644: the 0700
    // folder is what keeps other users out, files added while running included. Files are made 0600
    // too: here, after the cluster is created, on close.
    makePrivate(dataDir);
    lock = acquireLockFile(join(dataDir, LOCK_FILE_NAME), `The embedded database in ${dataDir}`);
  } catch (error) {
    // Another process's folder is left alone; the prepared one was moved there by this call.
    if (prepared) await discardMoved(prepared, dataDir);
    throw error;
  }

  let client: PGlite;
  try {
    if (prepared) {
      client = prepared;
      log.info({ dataDir, madeWith: 'template', prepared: true, newCluster }, 'Created the embedded database.');
    } else {
      if (isNew) {
        const madeWith = await createPgliteCluster(dataDir, log, newCluster === 'migrated' ? DEFAULT_TEMPLATE_SOURCE : EMPTY_TEMPLATE_SOURCE);
        makePrivate(dataDir);
        log.info({ dataDir, madeWith, newCluster }, 'Created the embedded database.');
      }
      client = await startPglite(dataDir);
    }
    await client.query('select 1');
  } catch (error) {
    if (prepared) await prepared.close().catch(() => {});
    lock.release();
    if (isNew) rmSync(dataDir, { recursive: true, force: true });
    if (error instanceof StorageError) throw error;
    throw new DatabaseUnavailableError(`Cannot open the embedded database in ${dataDir}: ${(error as Error).message}`, { cause: error });
  }

  // Loaded only when asked for; a port in use is logged and the server carries on without it.
  const socket: PgliteSocket | null =
    socketPort === null ? null : await (await import('./pglite-socket.ts')).startPgliteSocket(client, socketPort, log);

  const db = drizzle({ client, schema });
  return {
    type: 'pglite',
    db,
    target: dataDir,
    pglite: client,
    // In-process: there is no connection to lose.
    connectionLost: () => null,
    async ping(timeoutMs) {
      await withTimeout(client.query('select 1'), timeoutMs, `the embedded database did not answer within ${timeoutMs} ms`);
    },
    // The lock file already makes this process the only one on the folder.
    async lock() {
      return { db, migrate: () => applyMigrations(db), release: async () => {} };
    },
    // Not one transaction: PGlite's single session would make every other query (a health check,
    // a socket client, LISTEN) wait behind it. Each step commits as it goes, as before.
    async schemaTransaction() {
      return { db, migrate: () => applyMigrations(db), commit: async () => {}, abort: async () => {} };
    },
    changeFeed: 'listen',
    // In-process only: PGlite has no other processes to hear from.
    async listen(channel, onMessage) {
      await client.listen(channel, onMessage);
    },
    async close(options) {
      try {
        // Before PGlite closes: a socket client's session would hold its lock.
        await socket?.stop();
        await client.close();
        // Files PGlite added while running (pg_internal.init and the like) follow the umask.
        if (existsSync(dataDir)) makePrivate(dataDir);
      } finally {
        lock.release();
        if (options?.discardNew && isNew) rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
