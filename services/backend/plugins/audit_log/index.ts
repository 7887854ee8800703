import { desc, lt, sql } from 'drizzle-orm';
import { bigserial, index, jsonb, text, timestamp } from 'drizzle-orm/pg-core';
import { definePlugin, errorRef, setting, Type } from '../../src/plugins/index.ts';

const Entry = Type.Object(
  {
    id: Type.Integer(),
    action: Type.String(),
    actor: Type.String(),
    details: Type.Unknown({ description: 'The JSON object the entry was recorded with.' }),
    // Drizzle gives a Date; the serializer writes it as an ISO 8601 string.
    at: Type.Unsafe<Date>({ type: 'string', format: 'date-time' }),
  },
  { additionalProperties: false },
);
// The query arrives as strings (the app does not coerce types), hence a pattern rather than an integer.
const ListQuery = Type.Object({ limit: Type.Optional(Type.String({ pattern: '^([1-9][0-9]?|100)$', description: '1 to 100 (default 100)' })) }, { additionalProperties: false });
const NewEntry = Type.Object(
  {
    action: Type.String({ minLength: 1, maxLength: 100 }),
    actor: Type.String({ minLength: 1, maxLength: 200 }),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

/** Example plugin: an append-only audit trail with retention, pruned each time the database is ready. */
export default definePlugin({
  id: 'audit_log',
  name: 'Audit log',
  version: '1.0.0',
  tables: (table) => ({
    entries: table(
      'entries',
      {
        id: bigserial('id', { mode: 'number' }).primaryKey(),
        action: text('action').notNull(),
        actor: text('actor').notNull(),
        details: jsonb('details').notNull().default({}),
        at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
      },
      (entries) => [index('audit_log_entries_at_idx').on(entries.at)],
    ),
  }),
  settings: {
    retention_days: setting.number({
      name: 'Keep entries for (days)',
      description: 'Older entries are deleted at start-up.',
      default: 90,
      required: true,
      validation: { integer: true, min: 1, max: 3650 },
    }),
  },
  async onDatabaseReady({ db, tables, setting: settingOf, log }) {
    const days = settingOf('retention_days');
    const removed = await db().delete(tables.entries).where(lt(tables.entries.at, sql`now() - make_interval(days => ${days})`)).returning({ id: tables.entries.id });
    if (removed.length > 0) log.info(`Removed ${removed.length} audit entries older than ${days} days`);
  },
  routes(app, { db, tables }) {
    const { entries } = tables;
    app.get(
      '/',
      { onRequest: app.requireAdmin, schema: { summary: 'The newest entries', querystring: ListQuery, response: { 200: Type.Array(Entry), '4xx': errorRef, '5xx': errorRef } } },
      async (request) => db().select().from(entries).orderBy(desc(entries.id)).limit(Number(request.query.limit ?? 100)),
    );

    app.post(
      '/',
      { onRequest: app.requireAdmin, schema: { summary: 'Record an entry', body: NewEntry, response: { 201: Entry, '4xx': errorRef, '5xx': errorRef } } },
      async (request, reply) => {
        const [entry] = await db().insert(entries).values({ action: request.body.action, actor: request.body.actor, details: request.body.details ?? {} }).returning();
        return reply.status(201).send(entry!); // one row inserted, one returned
      },
    );
  },
});
