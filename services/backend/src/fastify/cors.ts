import fp from 'fastify-plugin';
import fastifyCors from '@fastify/cors';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { AppError } from '../errors.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Which other origins may call the API from a browser: those in the `security.allowed_origins`
 * setting get CORS headers, read per request so a change applies at once on every replica. A request
 * that changes something and comes from a page of any other origin is refused.
 */
export const corsPlugin = fp(
  async (app: FastifyInstance) => {
    const isListed = listedOriginsOf(app);
    await app.register(fastifyCors, {
      origin: (origin, callback) => callback(null, origin !== undefined && isListed(origin)),
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      // A preflight without its headers gets the usual answer instead of a plain-text 400.
      strictPreflight: false,
    });

    const checkOrigin: onRequestHookHandler = (request, _reply, done) => {
      const origin = request.headers.origin;
      if (origin === undefined || SAFE_METHODS.has(request.method) || isSameOrigin(origin, request.headers.host) || isListed(origin)) return done();
      done(new AppError(403, 'origin_not_allowed', 'Requests that change something are only accepted from this server\'s own pages or from an origin in the security.allowed_origins setting.'));
    };
    app.addHook('onRequest', checkOrigin);
  },
  { name: 'groundwork-cors', dependencies: ['groundwork-core'] },
);

/** Whether an origin is in security.allowed_origins; the parsed list is kept until the setting changes. */
function listedOriginsOf(app: FastifyInstance): (origin: string) => boolean {
  let parsedFrom: unknown;
  let listed = new Set<string>();
  return (origin) => {
    const value = app.settings.get('security.allowed_origins');
    if (value !== parsedFrom) {
      parsedFrom = value;
      listed = new Set((Array.isArray(value) ? value : []).map((entry) => (typeof entry === 'string' ? originOf(entry) : null)).filter((entry) => entry !== null));
    }
    const normalized = originOf(origin);
    return normalized !== null && listed.has(normalized);
  };
}

/** `https://App.example.com:443/` → `https://app.example.com`; null for anything that is not an http(s) origin. */
function originOf(text: string): string | null {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null;
  } catch {
    return null;
  }
}

/**
 * Whether the Origin header names the same host and port as the Host header (default ports included).
 * The scheme is not compared: behind a TLS proxy the server cannot tell https from http.
 */
function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    const from = new URL(origin);
    return from.host === new URL(`${from.protocol}//${host}`).host;
  } catch {
    return false;
  }
}
