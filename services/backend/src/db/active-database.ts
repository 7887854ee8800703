import { AsyncLocalStorage } from 'node:async_hooks';
import type { DatabaseDriver } from './drivers/index.ts';
import { DatabaseNotReadyError } from '../errors.ts';
import type { AppDatabase } from './index.ts';

/** Which app's database a request is served by, so getDb() answers for the right app. */
const requestScope = new AsyncLocalStorage<ActiveDatabase>();
/** Open owners in the order they became ready: getDb() outside a request uses the oldest. */
const openOwners = new Set<ActiveDatabase>();

/**
 * The one owner of an app's database: setup hands it the driver it connected and migrated
 * (`activate`), a move hands it the next one (`swap`), shutdown closes it (`close`). Everything
 * else — routes, settings, plugins, getDb() — reads the database from here and never keeps it.
 */
export class ActiveDatabase {
  private driver: DatabaseDriver | null = null;

  /** The driver behind the database, while one is active. */
  get current(): DatabaseDriver | null {
    return this.driver;
  }

  /** The database; DatabaseNotReadyError (a 503 for HTTP callers) while none is active. */
  get db(): AppDatabase {
    if (!this.driver) throw new DatabaseNotReadyError();
    return this.driver.db;
  }

  /** Setup's last step: from now on every reader gets this driver's database. */
  activate(driver: DatabaseDriver): void {
    if (this.driver) throw new Error('A database is already active: use swap() to change it');
    this.driver = driver;
    openOwners.add(this);
  }

  /**
   * Switches readers to `next` at once and closes the previous driver afterwards (its queries in
   * flight finish first, as pool.end() and PGlite.close() wait for them).
   */
  async swap(next: DatabaseDriver): Promise<void> {
    const previous = this.driver;
    this.driver = next;
    openOwners.add(this);
    await previous?.close();
  }

  /** Readers get DatabaseNotReadyError from now on; the driver's connections are closed. */
  async close(): Promise<void> {
    const driver = this.driver;
    this.driver = null;
    openOwners.delete(this);
    await driver?.close();
  }

  /** Runs `fn` (a request's remaining handling) with getDb() bound to this app's database. */
  scope<T>(fn: () => T): T {
    return requestScope.run(this, fn);
  }

  /** The owner getDb() reads: the request's app, else the first app of this process that is ready. */
  static forCaller(): ActiveDatabase | undefined {
    return requestScope.getStore() ?? openOwners.values().next().value;
  }
}
