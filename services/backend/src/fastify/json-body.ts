import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';

/** How deeply arrays and objects may nest in a request body, on every route (plugins' too). */
export const MAX_BODY_DEPTH = 32;

class BodyTooDeepError extends AppError {
  constructor() {
    super(400, 'body_too_deep', `The JSON body nests arrays and objects more than ${MAX_BODY_DEPTH} levels deep.`);
  }
}

/**
 * Whether JSON text nests brackets deeper than `limit`, counting only those outside strings. A scan
 * of the raw text, so no recursive code (JSON.parse's consumers, validators) ever sees such a body.
 * Unbalanced or malformed text is left to JSON.parse to refuse.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c /* \ */) i++;
      else if (char === 0x22 /* " */) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x5b /* [ */ || char === 0x7b /* { */) {
      if (++depth > limit) return true;
    } else if (char === 0x5d /* ] */ || char === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}

/** The app's JSON body parser: Fastify's own (with its prototype-poisoning checks), behind the depth check. */
export const jsonBodyPlugin = fp(async (app: FastifyInstance) => {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (nestsDeeperThan(body as string, MAX_BODY_DEPTH)) {
      done(new BodyTooDeepError(), undefined);
      return;
    }
    parse(request, body as string, done);
  });
});
