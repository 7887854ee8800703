import { AppError } from '../../errors.ts';

/**
 * Why a backup or restore was refused or failed, in words an operator can act on. The codes are
 * ready for an HTTP caller (a running server doing the work for the CLI):
 * - backup_invalid (400): the file is not a Groundwork backup, or is cut short
 * - backup_newer_than_code (409): the backup has migrations this version does not know
 * - restore_target_not_empty (409): the target database already holds tables
 * - restore_not_allowed (409): the instance is already set up
 * - pg_dump_unavailable (500): pg_dump is missing or older than the server
 * - backup_failed (500): the database could not be dumped or restored
 */
export class BackupError extends AppError {
  constructor(statusCode: number, code: string, message: string, options?: { cause?: unknown }) {
    super(statusCode, code, message, options);
  }
}
