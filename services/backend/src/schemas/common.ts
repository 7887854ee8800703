import Type, { type Static } from 'typebox';
import { SETUP_PHASE_NAMES } from './database.ts';

/** The one error shape of every endpoint. */
export const ErrorResponse = Type.Object(
  {
    error: Type.String({ description: 'A stable, machine-readable code, e.g. "invalid_setup_token".' }),
    message: Type.String({ description: 'What went wrong and what to do about it, in plain words.' }),
    fields: Type.Optional(
      Type.Record(Type.String(), Type.String(), { description: 'Only when several settings were refused at once: each refused key with what is wrong with it.' }),
    ),
    phase: Type.Optional(Type.Enum(SETUP_PHASE_NAMES, { description: 'Only when a setup failed in one of its phases: the phase that failed.' })),
  },
  { $id: 'ErrorResponse', additionalProperties: false },
);
export type ErrorBody = Static<typeof ErrorResponse>;

export const errorRef = Type.Ref('ErrorResponse');
