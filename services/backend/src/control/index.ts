import type { App } from '../app.ts';
import { backupCommand } from './backup-command.ts';
import { MoveCommand } from './move-command.ts';
import { ControlServer } from './socket-server.ts';

export interface ControlChannel {
  close(): Promise<void>;
}

/**
 * Starts the running server's control socket (PERSISTENT_DATA_DIR/control.sock) with its commands:
 * `backup` and `move`. Started by the server entry, not by buildApp: tests that build an app in
 * process have no socket. Not on Windows (no Unix sockets with file modes there).
 */
export async function startControlChannel(app: App): Promise<ControlChannel | null> {
  if (process.platform === 'win32') return null;
  const move = new MoveCommand({
    config: app.config,
    log: app.log,
    status: app.setupStatus,
    active: app.activeDatabase,
    settings: app.settings,
    writes: app.writesInFlight,
  });
  const server = await ControlServer.start(app.config.persistentDataDir, { backup: backupCommand(app.activeDatabase, app.config), move: move.handler }, app.log);
  if (!server) return null;
  return {
    async close() {
      // A running move stops first (its target rolls back), then the socket goes.
      await move.stop();
      await server.close();
    },
  };
}
