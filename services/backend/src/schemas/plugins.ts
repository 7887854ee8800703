import Type, { type Static } from 'typebox';

export const PLUGIN_STATUSES = ['pending', 'active', 'failed', 'disabled'] as const;
export type PluginStatus = (typeof PLUGIN_STATUSES)[number];

/** A plugin as GET /api/plugins shows it. */
export const PluginViewSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.Union([Type.String(), Type.Null()]),
    version: Type.Union([Type.String(), Type.Null()]),
    status: Type.Enum(PLUGIN_STATUSES),
    tables: Type.Array(Type.String(), { description: 'Prefixed table names.' }),
    error: Type.Union([Type.String(), Type.Null()]),
    ddl_statements: Type.Integer({ description: 'DDL statements the last schema sync ran (0: nothing changed).' }),
  },
  { additionalProperties: false },
);
export type PluginView = Static<typeof PluginViewSchema>;
