import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../storage.ts';
import { TargetNotEmptyError } from './errors.ts';

/**
 * Written into a new PGlite folder before anything else and removed once the move has switched:
 * a folder that still has it was left by an interrupted move and holds nothing to keep.
 */
export const INCOMPLETE_MOVE_MARKER = 'groundwork-move-incomplete';

/** Makes `dataDir` ready to receive a move: absent or empty, or left by an interrupted move (removed). */
export function preparePgliteTarget(dataDir: string): void {
  if (existsSync(dataDir)) {
    const entries = readdirSync(dataDir);
    if (entries.includes(INCOMPLETE_MOVE_MARKER)) {
      rmSync(dataDir, { recursive: true, force: true });
    } else if (entries.length > 0) {
      throw new TargetNotEmptyError(
        `${dataDir} is not empty (${entries.slice(0, 5).join(', ')}${entries.length > 5 ? ', …' : ''}): an embedded database may be there. Move that folder away (rename it), then run the move again.`,
      );
    }
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileAtomic(join(dataDir, INCOMPLETE_MOVE_MARKER), 'A move into this folder has not finished. The next move removes this folder.\n');
}

/** The move into `dataDir` is complete and selected: the folder is an ordinary embedded database now. */
export function completePgliteTarget(dataDir: string): void {
  rmSync(join(dataDir, INCOMPLETE_MOVE_MARKER), { force: true });
}

/** Removes a folder an unfinished move created (it has the marker); leaves anything else alone. */
export function discardPgliteTarget(dataDir: string): void {
  if (existsSync(join(dataDir, INCOMPLETE_MOVE_MARKER))) rmSync(dataDir, { recursive: true, force: true });
}

/**
 * Keeps the embedded database the instance moved away from, renamed with the time of the move
 * (`pglite.moved-2026-11-26T10-00-00Z`): the way back. Returns where it is now.
 */
export function keepOldPgliteFolder(dataDir: string, now = new Date()): string {
  const kept = `${dataDir}.moved-${now.toISOString().slice(0, 19).replaceAll(':', '-')}Z`;
  renameSync(dataDir, kept);
  return kept;
}
