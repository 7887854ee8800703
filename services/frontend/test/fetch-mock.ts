import { vi } from 'vitest';

export interface FetchCall {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

type Answer = { status: number; body: unknown };

/**
 * Replaces fetch with `answer`, which gets each request and returns the status and JSON body to
 * answer with (or a promise of them, to hold a request open). Returns the calls made, in order.
 */
export function mockFetch(answer: (call: FetchCall) => Answer | Promise<Answer>): FetchCall[] {
  const calls: FetchCall[] = [];
  vi.stubGlobal('fetch', async (input: string, init: RequestInit = {}) => {
    const call: FetchCall = {
      method: init.method ?? 'GET',
      url: input,
      headers: Object.fromEntries([...new Headers(init.headers).entries()].map(([name, value]) => [name.toLowerCase(), value])),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    const { status, body } = await answer(call);
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  });
  return calls;
}

export const UNCONFIGURED = { configured: false, initialized: false, dialect: null, type: null, state: 'unconfigured' };

/** GET /api/db/setup/phases, worded unlike any label in the front end: what shows must come from here. */
export const PHASES = {
  phases: [
    { name: 'connect', label: 'Reach the database (server words)' },
    { name: 'migrate', label: 'Build the tables (server words)' },
    { name: 'settings', label: 'Load the settings (server words)' },
    { name: 'plugins', label: 'Ready the plugins (server words)' },
    { name: 'commit', label: 'Record the choice (server words)' },
  ],
};

/** A promise with its resolve function, to answer a request when the test says so. */
export function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}
