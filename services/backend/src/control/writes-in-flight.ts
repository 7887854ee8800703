/**
 * Counts the write requests (anything but GET, HEAD, OPTIONS) the server is handling, so a
 * maintenance operation can wait until the last one admitted before it began has finished: after
 * that, nothing writes the database until the maintenance ends.
 */
export class WritesInFlight {
  private count = 0;
  private idle: (() => void)[] = [];

  /** A write starts; call the returned function once when it has finished. */
  enter(): () => void {
    this.count++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      if (--this.count === 0) for (const resolve of this.idle.splice(0)) resolve();
    };
  }

  /** Resolves when no write is in flight. */
  drained(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.idle.push(resolve));
  }
}

/** Methods that only read: served during maintenance. */
export const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
