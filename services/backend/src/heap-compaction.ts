import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Boot and setup leave tens of MB of garbage (route schemas compiled, migrations read, the modules'
// start-up work) that V8 keeps as heap until memory gets tight, which an idle server never does.
// A full collection once things have settled gives it back: ~30 MB of resident memory (measured).
// V8 shrinks its young generation only once the allocation rate is low, so a collection soon after
// the busy part may not; it is tried again a few times, until the heap has shrunk.
const INTERVAL_MS = 2_000;
const ATTEMPTS = 5;
// Shrunk: little more heap held than used.
const SHRUNK_RATIO = 1.5;

let collect: (() => void) | null = null;
let timer: NodeJS.Timeout | null = null;

/** The server process (not tests or command-line tools) turns this on. */
export function enableHeapCompaction(): void {
  setFlagsFromString('--expose-gc');
  collect = runInNewContext('gc') as () => void;
}

/** Full collections from a moment from now until the heap has shrunk; nothing unless enabled. */
export function compactHeapSoon(attempt = 1): void {
  if (!collect || (timer && attempt === 1)) return;
  timer = setTimeout(() => {
    timer = null;
    collect?.();
    const { heapTotal, heapUsed } = process.memoryUsage();
    if (heapTotal > heapUsed * SHRUNK_RATIO && attempt < ATTEMPTS) compactHeapSoon(attempt + 1);
  }, INTERVAL_MS);
  timer.unref();
}
