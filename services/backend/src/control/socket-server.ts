import { chmodSync, lstatSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { AppError } from '../errors.ts';
import { CONTROL_SOCKET_NAME, type CommandHandler, type ControlEvent, type Send } from './protocol.ts';

const MAX_BODY_BYTES = 16 * 1024;

/**
 * The running server's control channel: HTTP on a Unix socket in PERSISTENT_DATA_DIR, mode 0600.
 * Being able to open it (the server's user) is the authority, as for every file there: no token.
 * `npm run db:backup` and `db:move` try it first, so they work while the server runs.
 */
export class ControlServer {
  /** Commands being answered: closing waits for them to send their last line. */
  private readonly answering = new Set<Promise<void>>();

  private constructor(
    private readonly server: Server,
    readonly path: string,
  ) {}

  /** Listens, replacing a socket file a dead process left; null when another live process serves it. */
  static async start(dataDir: string, commands: Record<string, CommandHandler>, log: FastifyBaseLogger): Promise<ControlServer | null> {
    const path = join(dataDir, CONTROL_SOCKET_NAME);
    if (existsAsSocket(path)) {
      if (await answers(path)) {
        log.warn(`Another process serves ${path}: this server has no control socket (npm run db:backup and db:move will talk to that one).`);
        return null;
      }
      rmSync(path, { force: true });
    }
    const server = createServer((request, response) => {
      const answer = handle(request, response, commands, log);
      control.answering.add(answer);
      void answer.finally(() => control.answering.delete(answer));
    });
    const control = new ControlServer(server, path);
    // The socket is created 0600 from the start (bind happens inside listen(), synchronously):
    // between a listen and a chmod, another user could connect.
    const previousMask = process.umask(0o177);
    try {
      server.listen(path);
    } finally {
      process.umask(previousMask);
    }
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    chmodSync(path, 0o600);
    return control;
  }

  /** Stops listening, lets the commands being answered finish (stop a long one first), removes the socket file. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all(this.answering);
    this.server.closeAllConnections();
    await closed;
    rmSync(this.path, { force: true });
  }
}

function existsAsSocket(path: string): boolean {
  try {
    const stat = lstatSync(path);
    if (!stat.isSocket()) throw new Error(`${path} exists and is not a socket: remove it, then start the server again.`);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Whether a process accepts connections on the socket (a file left by a dead one refuses them). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function handle(request: IncomingMessage, response: ServerResponse, commands: Record<string, CommandHandler>, log: FastifyBaseLogger) {
  const command = request.method === 'POST' ? commands[(request.url ?? '').replace(/^\//, '')] : undefined;
  let body: Record<string, unknown>;
  try {
    body = await readJson(request);
  } catch (error) {
    return sendOnce(response, 400, { type: 'error', error: 'bad_request', message: (error as Error).message });
  }
  if (!command) return sendOnce(response, 404, { type: 'error', error: 'unknown_command', message: `No such command: ${request.method} ${request.url}. Commands: ${Object.keys(commands).join(', ')}.` });

  response.writeHead(200, { 'content-type': 'application/x-ndjson' });
  const send: Send = async (event) => {
    if (response.destroyed || response.writableEnded) return false;
    if (!response.write(`${JSON.stringify(event)}\n`)) await new Promise((resolve) => response.once('drain', resolve).once('close', resolve));
    return !response.destroyed;
  };
  try {
    await command(body, send);
    await send({ type: 'done' });
  } catch (error) {
    if (!(error instanceof AppError)) log.error({ err: error }, `Control command ${request.url} failed`);
    await send({ type: 'error', error: error instanceof AppError ? error.code : 'internal_error', message: (error as Error).message });
  }
  response.end();
}

function sendOnce(response: ServerResponse, status: number, event: ControlEvent): void {
  response.writeHead(status, { 'content-type': 'application/x-ndjson' }).end(`${JSON.stringify(event)}\n`);
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of request) {
    text += String(chunk);
    if (text.length > MAX_BODY_BYTES) throw new Error('The request body is too large.');
  }
  if (!text.trim()) return {};
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('The request body must be a JSON object.');
  return parsed as Record<string, unknown>;
}
