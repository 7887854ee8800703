/** The move will not start, or will not go on: the message says why and what to do. Nothing was changed. */
export class MoveRefusedError extends Error {}

/** The target already holds tables (or files): a move only goes into an empty database. */
export class TargetNotEmptyError extends MoveRefusedError {}

/** The copy did not match the source: it was rolled back. */
export class MoveVerificationError extends Error {}
