import type { Config } from '../config.ts';
import type { ActiveDatabase } from '../db/active-database.ts';
import { BackupError, streamBackup, type BackupSource } from '../db/backup/index.ts';
import { PostgresNotConfiguredError } from '../db/drivers/index.ts';
import { DatabaseNotReadyError } from '../errors.ts';
import type { CommandHandler } from './protocol.ts';

/**
 * `backup`: the server backs up the database it has open and streams the SQL to the CLI, which
 * writes the file (as its own user, atomically). The server's PGlite is the one a running
 * instance's backup must come from: its folder is locked to this process.
 */
export function backupCommand(active: ActiveDatabase, config: Config): CommandHandler {
  return async (_body, send) => {
    const driver = active.current;
    if (!driver) throw new DatabaseNotReadyError();
    let source: BackupSource;
    if (driver.type === 'pglite') source = { type: 'pglite', pg: driver.pglite! };
    else if (config.postgres) source = { type: 'postgresql', settings: config.postgres, pgDumpPath: process.env.PG_DUMP_PATH || undefined };
    else throw new PostgresNotConfiguredError();
    await streamBackup(source, async (manifest, chunks) => {
      await send({ type: 'manifest', manifest });
      for await (const chunk of chunks) {
        if (!(await send({ type: 'sql', chunk }))) throw new BackupError(500, 'backup_failed', 'The command that asked for the backup went away.');
      }
    });
  };
}
