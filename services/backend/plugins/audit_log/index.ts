import { desc, lt, sql } from 'drizzle-orm';
import { bigserial, index, jsonb, text, timestamp } from 'drizzle-orm/pg-core';
import { definePlugin, setting } from '../../src/plugins/index.ts';

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
    app.get('/', { onRequest: app.requireAdmin }, async () => db().select().from(entries).orderBy(desc(entries.id)).limit(100));

    app.post<{ Body: { action: string; actor: string; details?: Record<string, unknown> } }>(
      '/',
      {
        onRequest: app.requireAdmin,
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['action', 'actor'],
            properties: { action: { type: 'string', minLength: 1, maxLength: 100 }, actor: { type: 'string', minLength: 1, maxLength: 200 }, details: { type: 'object' } },
          },
        },
      },
      async (request, reply) => {
        const [entry] = await db().insert(entries).values({ action: request.body.action, actor: request.body.actor, details: request.body.details ?? {} }).returning();
        return reply.status(201).send(entry);
      },
    );
  },
});
