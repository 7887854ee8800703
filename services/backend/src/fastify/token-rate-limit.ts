import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';

/** Wrong tokens one client address may send per window before its token checks answer 429. */
export const TOKEN_FAILURE_LIMIT = 10;
const TOKEN_FAILURE_WINDOW_MS = 60_000;

/** Errors that mean "a token was sent and it is wrong", i.e. a guess. A missing token guesses nothing. */
const WRONG_TOKEN_CODES: Record<string, string> = {
  invalid_setup_token: 'setup token',
  invalid_admin_token: 'admin token',
  invalid_metrics_token: 'metrics token',
};

const presentsToken = (request: FastifyRequest) => request.headers['x-setup-token'] !== undefined || request.headers.authorization !== undefined;

/**
 * Slows down guessing of the setup and admin tokens: only failed checks count, per client address
 * (@fastify/rate-limit's store and address key, IPv6 per /64). Once an address has sent
 * TOKEN_FAILURE_LIMIT wrong tokens in the window, every request from it that carries a token
 * (right or wrong, so the answer reveals nothing) gets 429 `too_many_attempts` with Retry-After.
 */
export const tokenRateLimitPlugin = fp(async (app: FastifyInstance) => {
  await app.register(rateLimit, { global: false });
  const failures = app.createRateLimit({ max: TOKEN_FAILURE_LIMIT, timeWindow: TOKEN_FAILURE_WINDOW_MS });
  // Checks still running count against the limit too: when more run at once than wrong tokens are
  // left, the rest wait for one to finish, so a burst of parallel guesses cannot all be checked
  // before the failures among them are counted. Right tokens are never refused, at most held back.
  const running = new Map<string, { count: number; waiting: Array<() => void> }>();
  const wakeNext = (key: string) => {
    const checks = running.get(key);
    checks?.waiting.shift()?.();
    if (checks && checks.count === 0 && checks.waiting.length === 0) running.delete(key);
  };
  const release = (key: string) => {
    running.get(key)!.count -= 1;
    wakeNext(key);
  };

  app.addHook('onRequest', async (request, reply) => {
    if (!presentsToken(request)) return;
    for (;;) {
      const state = await failures(request, { increment: false });
      if (state.isAllowed) return;
      if (state.remaining === 0) {
        wakeNext(state.key); // whoever waits behind this request gets the same answer
        const seconds = Math.max(1, state.ttlInSeconds);
        reply.header('retry-after', String(seconds));
        throw new AppError(429, 'too_many_attempts', `Too many wrong tokens from this address. Wait ${seconds} seconds before trying again.`);
      }
      const checks = running.get(state.key) ?? { count: 0, waiting: [] };
      running.set(state.key, checks);
      if (checks.count < state.remaining) {
        checks.count += 1;
        // 'close' fires once whether the answer was sent or the client went away.
        reply.raw.once('close', () => release(state.key));
        return;
      }
      if (await clientLeftWhileWaiting(checks.waiting, reply.raw)) {
        throw new AppError(499, 'client_closed_request', 'The client closed the connection.');
      }
    }
  });

  app.addHook('onError', async (request, _reply, error) => {
    const what = error instanceof AppError ? WRONG_TOKEN_CODES[error.code] : undefined;
    if (!what) return;
    const state = await failures(request);
    const count = state.isAllowed ? 0 : state.max - state.remaining;
    // The address, never the token: the request's headers are not part of this line.
    request.log.warn({ clientAddress: request.ip, failures: count, limit: TOKEN_FAILURE_LIMIT }, `Wrong ${what} from ${request.ip}`);
  });
});

/** Queues a wake-up in `waiting`; true when the client went away first (it then leaves the queue). */
function clientLeftWhileWaiting(waiting: Array<() => void>, response: FastifyReply['raw']): Promise<boolean> {
  return new Promise((resolve) => {
    const wake = () => {
      response.off('close', gone);
      resolve(false);
    };
    const gone = () => {
      waiting.splice(waiting.indexOf(wake), 1);
      resolve(true);
    };
    waiting.push(wake);
    response.once('close', gone);
  });
}
