import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, isConnectionError } from '../errors.ts';

interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Fastify's own errors that are the client's fault, with a code and words a person can act on. */
const FASTIFY_CLIENT_ERRORS: Record<string, { code: string; message: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'unsupported_content_type', message: 'Send the body as JSON with Content-Type: application/json.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'invalid_body', message: 'The Content-Length header does not match the body.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'invalid_body', message: 'The body is empty; send a JSON object.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'invalid_json', message: 'The body is not valid JSON.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'body_too_large', message: 'The body is too large for this endpoint.' },
  FST_ERR_CTP_INVALID_TYPE: { code: 'unsupported_content_type', message: 'The Content-Type header is not valid.' },
};

/** Which part of the request a schema refused (Fastify's `validationContext`): its code and how a message names it. */
const VALIDATION_PARTS: Record<string, { code: string; where: string }> = {
  body: { code: 'invalid_body', where: 'body' },
  querystring: { code: 'invalid_query', where: 'query string' },
  params: { code: 'invalid_params', where: 'path parameters' },
  headers: { code: 'invalid_headers', where: 'headers' },
};

/**
 * One error shape everywhere: `{ error, message }` (and `phase` when a setup failed in one). Client mistakes are 400 with the field and the rule;
 * AppErrors keep their status; anything unexpected is a 500 whose details stay in the log.
 */
export const errorHandlerPlugin = fp(async (app: FastifyInstance) => {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) {
      return reply.status(error.statusCode).send({ error: error.code, message: error.message, ...(error.fields && { fields: error.fields }), ...(error.phase && { phase: error.phase }) });
    }
    if (error.validation) {
      const part = VALIDATION_PARTS[error.validationContext ?? 'body'] ?? VALIDATION_PARTS.body!;
      return reply.status(400).send({ error: part.code, message: describeValidation(error.validation as AjvError[], part.where) });
    }
    const known = error.code ? FASTIFY_CLIENT_ERRORS[error.code] : undefined;
    if (known) return reply.status(400).send({ error: known.code, message: known.message });
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      // JSON parse errors and other client errors Fastify raises.
      const code = error instanceof SyntaxError ? 'invalid_json' : 'bad_request';
      const message = error instanceof SyntaxError ? 'The body is not valid JSON.' : error.message;
      return reply.status(error.statusCode === 413 || error.statusCode === 415 ? 400 : error.statusCode).send({ error: code, message });
    }
    if (isConnectionError(error)) {
      request.log.warn({ err: error }, 'Database connection failed during a request');
      return reply.status(503).send({ error: 'database_unavailable', message: 'The database cannot be reached right now. Try again shortly; GET /api/health/ready shows when it is back.' });
    }
    request.log.error({ err: error }, 'Unhandled error');
    return reply.status(500).send({ error: 'internal_error', message: 'Something went wrong on the server. The server log has the details.' });
  });
});

function describeValidation(errors: AjvError[], where: string): string {
  const first = errors[0];
  if (!first) return `The ${where} is not valid.`;
  const field = first.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const name = field ? `"${field}"` : `The ${where}`;
  switch (first.keyword) {
    case 'additionalProperties':
      return `Unknown field "${String(first.params.additionalProperty)}" in the ${where}.`;
    case 'required':
      return `Missing field "${String(first.params.missingProperty)}" in the ${where}.`;
    case 'enum':
      return `${name} must be one of: ${(first.params.allowedValues as unknown[]).map(String).join(', ')}.`;
    case 'type':
      return `${name} must be ${article(String(first.params.type))}.`;
    default:
      return `${name} ${first.message ?? 'is not valid'}.`;
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
