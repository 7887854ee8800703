/**
 * The database endpoints' schemas (/api/db/*). They validate and document the HTTP API, and their
 * static types are the API's types on both sides: the front end imports them (types only) through
 * schemas/api.ts. This module imports nothing but TypeBox, so the front end can type-check it.
 */
import Type, { type Static } from 'typebox';

export const DATABASE_TYPES = ['pglite', 'postgresql'] as const;
export type DatabaseType = (typeof DATABASE_TYPES)[number];

export const DatabaseTypeSchema = Type.Enum(DATABASE_TYPES, {
  description: '"pglite": embedded, nothing to install. "postgresql": the server named by the environment.',
});

/** The phases of setup, in the order they run (setup/phases.ts implements each). */
export const SETUP_PHASE_NAMES = ['connect', 'migrate', 'settings', 'plugins', 'commit'] as const;
export type PhaseName = (typeof SETUP_PHASE_NAMES)[number];

/** GET /api/db/setup/phases: the phases in the order they run, for the wizard to show. */
export const SetupPhasesSchema = Type.Object(
  {
    phases: Type.Array(
      Type.Object(
        {
          name: Type.Enum(SETUP_PHASE_NAMES, { description: 'As GET /api/db/status reports it in `phase`, and a failed setup in its error body.' }),
          label: Type.String({ description: 'What the phase does, in words for a person.' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type SetupPhases = Static<typeof SetupPhasesSchema>;

export const SETUP_STATES = ['unconfigured', 'setting_up', 'ready', 'error', 'maintenance'] as const;
export type SetupState = (typeof SETUP_STATES)[number];

/** What a running server in `maintenance` is doing (npm run db:move while it runs). */
export const MaintenanceSchema = Type.Object(
  {
    operation: Type.Literal('move'),
    target: DatabaseTypeSchema,
    stage: Type.Enum(['preparing', 'building', 'copying', 'verifying', 'switching'] as const, { description: 'The step running now.' }),
    table: Type.Union([Type.String(), Type.Null()], { description: 'The table being copied (schema.table), or the last one copied.' }),
    rows_done: Type.Integer({ description: 'Rows of `table` copied so far.' }),
    rows_total: Type.Integer({ description: 'Rows `table` has.' }),
  },
  { additionalProperties: false },
);
export type Maintenance = Static<typeof MaintenanceSchema>;

export const DbStatusSchema = Type.Object(
  {
    configured: Type.Boolean({ description: 'A database has been chosen for this instance.' }),
    initialized: Type.Boolean({ description: 'The database is connected and migrated in this process.' }),
    dialect: Type.Union([Type.Literal('postgresql'), Type.Null()]),
    type: Type.Union([DatabaseTypeSchema, Type.Null()]),
    state: Type.Enum(SETUP_STATES),
    phase: Type.Optional(Type.Enum(SETUP_PHASE_NAMES, { description: 'The setup step running now (only while setting_up).' })),
    maintenance: Type.Optional(MaintenanceSchema),
    error: Type.Optional(Type.String({ description: 'The last setup or boot error, in plain words: what kind of failure, never hosts, users, folders or key ids.' })),
    detail: Type.Optional(
      Type.String({
        description: 'The full last error (may name host:port, user, folder, key ids). Only with `Authorization: Bearer <admin token>`, or the X-Setup-Token header before setup.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type DbStatus = Static<typeof DbStatusSchema>;

/** The setup token, on every endpoint the wizard calls before setup. */
export const SetupTokenHeaders = Type.Object({
  'x-setup-token': Type.Optional(Type.String({ description: 'From the server log or PERSISTENT_DATA_DIR/setup-token.' })),
});

/** The body of POST /api/db/setup and POST /api/db/test: which database, never credentials. */
export const DatabaseChoiceSchema = Type.Object({ type: DatabaseTypeSchema }, { additionalProperties: false });

export const SetupResultSchema = Type.Object(
  {
    message: Type.String(),
    restart_required: Type.Boolean({ description: 'Always false: the instance uses the database at once. Kept in the contract for clients that read it.' }),
    database_type: DatabaseTypeSchema,
    admin_token: Type.Optional(Type.String({ description: 'The admin API token, shown this once. Only its hash is stored.' })),
    adopted: Type.Optional(
      Type.Boolean({ description: 'true (only then present): the database was already set up, by another instance or before db.selection.json was lost; this instance joined it and issued no admin token.' }),
    ),
  },
  { additionalProperties: false },
);
export type SetupResult = Static<typeof SetupResultSchema>;

export const ConnectionTestResultSchema = Type.Object(
  {
    ok: Type.Literal(true),
    type: DatabaseTypeSchema,
    version: Type.String({ description: 'What the server answered to `select version()`; for PGlite a description (nothing is opened).' }),
    round_trip_ms: Type.Number({ description: 'Time for `select version()` to come back, in milliseconds; 0 for PGlite.' }),
  },
  { additionalProperties: false },
);
export type ConnectionTestResult = Static<typeof ConnectionTestResultSchema>;

/** What the server read from its environment about PostgreSQL; never the password. */
export const DatabaseEnvironmentSchema = Type.Object(
  {
    postgresql: Type.Object(
      {
        configured: Type.Boolean({ description: 'DATABASE_URL or the POSTGRES_* variables are set.' }),
        host: Type.Optional(Type.String()),
        port: Type.Optional(Type.Integer()),
        database: Type.Optional(Type.String()),
        user: Type.Optional(Type.String()),
        ssl: Type.Optional(Type.Boolean({ description: 'Connects with TLS.' })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type DatabaseEnvironment = Static<typeof DatabaseEnvironmentSchema>;

export const MigrationsListSchema = Type.Object(
  {
    applied: Type.Array(Type.String(), { description: 'Tags of applied migrations, oldest first.' }),
    pending: Type.Array(Type.String(), { description: 'Tags of migrations in this release not yet applied.' }),
    unknown: Type.Array(Type.String(), { description: 'Applied migrations this release does not know (a newer release made them), with when they were generated and their hash.' }),
    schema: Type.Union([Type.Literal('current'), Type.Literal('ahead')], {
      description: '`ahead`: a newer release has migrated the database (a rolling upgrade); this one does no schema work and keeps serving.',
    }),
  },
  { additionalProperties: false },
);
export type MigrationsList = Static<typeof MigrationsListSchema>;

/** GET /api/db/location (admin): the database's type and where it is. */
export const DatabaseLocationSchema = Type.Object(
  {
    type: Type.Enum(DATABASE_TYPES),
    location: Type.String({ description: 'Where the data lives: "host:port/database" for PostgreSQL, the folder for PGlite. Never a password.' }),
  },
  { additionalProperties: false },
);
export type DatabaseLocation = Static<typeof DatabaseLocationSchema>;
