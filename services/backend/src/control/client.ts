import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { linesOf } from '../db/backup/sql-script.ts';
import { AppError } from '../errors.ts';
import { CONTROL_SOCKET_NAME, type ControlEvent } from './protocol.ts';

/** The server's answer was an error: its code and words, as the CLI shows them. */
class ControlCommandError extends AppError {}

/**
 * Sends `command` to the server running on `dataDir`'s control socket and yields its answer's
 * events up to `done`; an `error` event is thrown. Null when no server answers there (no socket,
 * or a file left by a stopped one): then the caller does the work itself.
 */
export async function callRunningServer(dataDir: string, command: string, body: object = {}): Promise<AsyncGenerator<ControlEvent> | null> {
  const socketPath = join(dataDir, CONTROL_SOCKET_NAME);
  const response = await new Promise<IncomingMessage | null>((resolve, reject) => {
    const outgoing = request({ socketPath, path: `/${command}`, method: 'POST', headers: { 'content-type': 'application/json' }, agent: false }, resolve);
    outgoing.once('error', (error: NodeJS.ErrnoException) => {
      if (['ENOENT', 'ECONNREFUSED', 'ENOTSOCK'].includes(error.code ?? '')) resolve(null);
      else reject(new Error(`Cannot talk to the running server on ${socketPath}: ${error.message}`));
    });
    outgoing.end(JSON.stringify(body));
  });
  return response && events(response, socketPath);
}

async function* events(response: AsyncIterable<Buffer>, socketPath: string): AsyncGenerator<ControlEvent> {
  const cutShort = () => new ControlCommandError(500, 'cut_short', `The running server (${socketPath}) stopped answering before the command finished: see its log.`);
  const lines = linesOf(response);
  for (;;) {
    let next: IteratorResult<string>;
    try {
      next = await lines.next();
    } catch {
      // The connection broke (the server was killed or stopped).
      throw cutShort();
    }
    if (next.done) throw cutShort();
    if (!next.value.trim()) continue;
    const event = JSON.parse(next.value) as ControlEvent;
    if (event.type === 'error') throw new ControlCommandError(500, event.error, event.message);
    if (event.type === 'done') return;
    yield event;
  }
}
