import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { HttpLimits } from '../config.ts';

// Node checks the header and request timeouts on this interval (30 s by default), so a timeout
// fires at most this late.
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/** Fastify's options for the Node HTTP server: slow or idle clients cannot hold a connection for long. */
export function httpServerOptions(limits: HttpLimits) {
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    // Passed to http.createServer: these two have no Fastify option of their own.
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, Math.ceil(limits.headersTimeoutMs / 4)),
    },
    clientErrorHandler: answerClientError,
  } satisfies Partial<FastifyServerOptions> & { http: object };
}

/** Beyond the cap Node closes new connections at once, so a flood cannot use up the process's file descriptors. */
export function capConnections(app: FastifyInstance, limits: HttpLimits): void {
  app.server.maxConnections = limits.maxConnections;
}

const CLIENT_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'request_timeout', message: 'The request did not arrive in time (see HTTP_REQUEST_TIMEOUT_MS and HTTP_HEADERS_TIMEOUT_MS).' },
  HPE_HEADER_OVERFLOW: { status: 431, code: 'headers_too_large', message: 'The request headers are too large.' },
};

/** Errors Node raises before a request reaches Fastify (timeouts, malformed HTTP), in the one error shape. */
function answerClientError(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const known = CLIENT_ERRORS[error.code ?? ''] ?? { status: 400, code: 'bad_request', message: 'The request is not valid HTTP.' };
  this.log.debug({ err: error }, `Client error: ${known.code}`);
  if (socket.writable) {
    const body = JSON.stringify({ error: known.code, message: known.message });
    socket.write(`HTTP/1.1 ${known.status} ${STATUS_CODES[known.status]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }
  socket.destroy();
}
