import type { DestinationStream } from 'pino';

/** How the server's log lines look: JSON lines (containers, files) or pino-pretty's, for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';

/** The field of the log line that carries the setup link, which the pretty format puts on a line of its own. */
export const SETUP_LINK_FIELD = 'setupUrl';

/** LOG_FORMAT when set; otherwise pretty when stdout is a terminal, JSON when it is not. */
export function chooseLogFormat(configured: LogFormat | null, stdoutIsTerminal = process.stdout.isTTY === true): LogFormat {
  return configured ?? (stdoutIsTerminal ? 'pretty' : 'json');
}

/**
 * A pino-pretty stream to stdout. Loaded only here: a server logging JSON never imports it. It
 * formats what pino has already serialized and redacted, so secrets stay out as in JSON.
 */
export async function prettyLogStream(): Promise<DestinationStream> {
  const { default: pretty } = await import('pino-pretty');
  return pretty({
    // Written before the next line of code runs, as pino's own stdout is: nothing lost at exit.
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: `pid,hostname,${SETUP_LINK_FIELD}`,
    messageFormat: (log, messageKey) => {
      const message = String(log[messageKey] ?? '');
      const link = log[SETUP_LINK_FIELD];
      if (typeof link !== 'string') return message;
      // Alone on its line, indented: easy to spot, to select, and for a terminal to make clickable.
      return `${message.replace(link, 'the link below')}\n\n    ${link}\n`;
    },
  });
}
