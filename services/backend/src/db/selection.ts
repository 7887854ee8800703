import { join } from 'node:path';
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { DATABASE_TYPES } from '../schemas/database.ts';
import { readPrivateFile, writeFileAtomic } from '../storage.ts';

const SELECTION_FILE_NAME = 'db.selection.json';
export const SELECTION_FORMAT_VERSION = 1;

/** `persistent_data/db.selection.json`: which database this instance uses. Written last by setup. */
const SelectionSchema = Type.Object(
  {
    type: Type.Enum(DATABASE_TYPES),
    selectedAt: Type.String({ minLength: 1 }),
    version: Type.Literal(SELECTION_FORMAT_VERSION),
  },
  { additionalProperties: false },
);
type Selection = Static<typeof SelectionSchema>;

type SelectionRead =
  | { status: 'missing' }
  | { status: 'invalid'; message: string }
  | { status: 'ok'; selection: Selection };

function selectionPath(persistentDataDir: string): string {
  return join(persistentDataDir, SELECTION_FILE_NAME);
}

/**
 * Reads the selection file. A corrupt, unknown or untrusted file (a link, another user's, writable
 * by others) is reported, never changed or removed; one others can only read is made 0600.
 */
export function readSelection(persistentDataDir: string): SelectionRead {
  const path = selectionPath(persistentDataDir);
  let text: string | null;
  try {
    text = readPrivateFile(path, { secret: false });
  } catch (error) {
    return { status: 'invalid', message: (error as Error).message };
  }
  if (text === null) return { status: 'missing' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { status: 'invalid', message: `${path} is not valid JSON. Fix it or remove it to run setup again.` };
  }
  if (!Value.Check(SelectionSchema, parsed)) {
    const first = Value.Errors(SelectionSchema, parsed)[0];
    const where = first?.instancePath ? ` at ${first.instancePath}` : '';
    return {
      status: 'invalid',
      message: `${path} is not a selection this version understands${where}: ${first?.message ?? 'unexpected content'}. Expected {"type": "pglite" | "postgresql", "selectedAt", "version": ${SELECTION_FORMAT_VERSION}}. Fix it or remove it to run setup again.`,
    };
  }
  return { status: 'ok', selection: parsed };
}

export function writeSelection(persistentDataDir: string, selection: Selection): void {
  writeFileAtomic(selectionPath(persistentDataDir), `${JSON.stringify(selection, null, 2)}\n`);
}
