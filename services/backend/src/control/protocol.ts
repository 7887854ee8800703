import type { BackupManifest } from '../db/backup/index.ts';

/** The file in PERSISTENT_DATA_DIR a running server listens on for the operator commands. */
export const CONTROL_SOCKET_NAME = 'control.sock';

/**
 * What a command's answer is made of: one JSON object per line (HTTP over the Unix socket, POST
 * /<command>). Every answer ends with `done` or `error`; one that ends without either was cut short.
 */
export type ControlEvent =
  | { type: 'log'; message: string }
  | { type: 'manifest'; manifest: BackupManifest }
  | { type: 'sql'; chunk: string }
  | { type: 'done' }
  | { type: 'error'; error: string; message: string };

/** Sends one event; false when the caller has gone away. */
export type Send = (event: ControlEvent) => Promise<boolean>;

/** Runs a command for the caller, sending its output as events (`done` and `error` are added by the server). */
export type CommandHandler = (body: Record<string, unknown>, send: Send) => Promise<void>;
