// Backups as plain SQL (pg_dump's format), and restoring them into an empty database. Used by
// `npm run db:backup` / `db:restore` on a stopped instance; a running server can call the same.
export { writeBackup, streamBackup, type BackupSource, type BackupSink } from './backup.ts';
export { restoreBackup, compareMigrations, assertEmpty, type RestoreTarget } from './restore.ts';
export { readBackupManifest, type BackupManifest } from './manifest.ts';
export { BackupError } from './errors.ts';
export { writeStreamAtomic } from './atomic-file.ts';
