import Type from 'typebox';
import { DATABASE_TYPES } from '../config.ts';

/** The one error shape of every endpoint. */
export const ErrorResponse = Type.Object(
  {
    error: Type.String({ description: 'A stable, machine-readable code, e.g. "invalid_setup_token".' }),
    message: Type.String({ description: 'What went wrong and what to do about it, in plain words.' }),
  },
  { $id: 'ErrorResponse', additionalProperties: false },
);

export const errorRef = Type.Ref('ErrorResponse');

export const DatabaseTypeSchema = Type.Enum(DATABASE_TYPES, {
  description: '"pglite": embedded, nothing to install. "postgresql": the server named by the environment.',
});
