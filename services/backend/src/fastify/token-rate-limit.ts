import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';

/** Wrong tokens one client address may send per window before its token checks answer 429. */
export const TOKEN_FAILURE_LIMIT = 10;
export const TOKEN_FAILURE_WINDOW_MS = 60_000;

/** Errors that mean "a token was sent and it is wrong", i.e. a guess. A missing token guesses nothing. */
const WRONG_TOKEN_CODES: Record<string, string> = {
  invalid_setup_token: 'setup token',
  invalid_admin_token: 'admin token',
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
  // Checks still running count against the limit too, so a burst of parallel guesses cannot slip in
  // before the first failure is recorded.
  const inFlight = new Map<string, number>();
  const release = (key: string) => {
    const left = (inFlight.get(key) ?? 1) - 1;
    if (left > 0) inFlight.set(key, left);
    else inFlight.delete(key);
  };

  app.addHook('onRequest', async (request, reply) => {
    if (!presentsToken(request)) return;
    const state = await failures(request, { increment: false });
    if (state.isAllowed) return;
    const pending = inFlight.get(state.key) ?? 0;
    if (pending >= state.remaining) {
      const seconds = Math.max(1, state.ttlInSeconds);
      reply.header('retry-after', String(seconds));
      throw new AppError(429, 'too_many_attempts', `Too many wrong tokens from this address. Wait ${seconds} seconds before trying again.`);
    }
    inFlight.set(state.key, pending + 1);
    // 'close' fires once whether the answer was sent or the client went away.
    reply.raw.once('close', () => release(state.key));
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
