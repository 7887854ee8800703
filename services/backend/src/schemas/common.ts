import Type, { type Static } from 'typebox';

/** The one error shape of every endpoint. */
export const ErrorResponse = Type.Object(
  {
    error: Type.String({ description: 'A stable, machine-readable code, e.g. "invalid_setup_token".' }),
    message: Type.String({ description: 'What went wrong and what to do about it, in plain words.' }),
  },
  { $id: 'ErrorResponse', additionalProperties: false },
);
export type ErrorBody = Static<typeof ErrorResponse>;

export const errorRef = Type.Ref('ErrorResponse');
