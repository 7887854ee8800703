import { desc, eq } from 'drizzle-orm';
import { index, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { definePlugin, errorRef, setting, Type } from '../../src/plugins/index.ts';

const MAX_SERIAL = 2_147_483_647;

const Note = Type.Object(
  {
    id: Type.Integer(),
    title: Type.String(),
    body: Type.String(),
    // Drizzle gives a Date; the serializer writes it as an ISO 8601 string.
    createdAt: Type.Unsafe<Date>({ type: 'string', format: 'date-time' }),
  },
  { additionalProperties: false },
);
// Params and query arrive as strings (the app does not coerce types): patterns keep "abc" from reaching the database as NaN.
const NoteParams = Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,9}$' }) }, { additionalProperties: false });
const ListQuery = Type.Object({ limit: Type.Optional(Type.String({ pattern: '^([1-9][0-9]?|100)$', description: '1 to 100 (default 100)' })) }, { additionalProperties: false });
const NewNote = Type.Object({ title: Type.String({ minLength: 1, maxLength: 200 }), body: Type.Optional(Type.String()) }, { additionalProperties: false });

/** Example plugin: short notes, with a setting and routes under /api/plugins/notes/. */
export default definePlugin({
  id: 'notes',
  name: 'Notes',
  version: '1.0.0',
  tables: (table) => ({
    notes: table(
      'notes',
      {
        id: serial('id').primaryKey(),
        title: text('title').notNull(),
        body: text('body').notNull().default(''),
        createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
      },
      (notes) => [index('notes_notes_created_at_idx').on(notes.createdAt)],
    ),
  }),
  settings: {
    max_body_length: setting.number({
      name: 'Longest note',
      description: 'The most characters a note body may have.',
      default: 10_000,
      required: true,
      validation: { integer: true, min: 1, max: 1_000_000 },
    }),
  },
  routes(app, { db, tables, setting: settingOf }) {
    const { notes } = tables;
    app.get(
      '/',
      { onRequest: app.requireAdmin, schema: { summary: 'The newest notes', querystring: ListQuery, response: { 200: Type.Array(Note), '4xx': errorRef, '5xx': errorRef } } },
      async (request) => db().select().from(notes).orderBy(desc(notes.createdAt)).limit(Number(request.query.limit ?? 100)),
    );

    app.get(
      '/:id',
      { onRequest: app.requireAdmin, schema: { summary: 'One note', params: NoteParams, response: { 200: Note, '4xx': errorRef, '5xx': errorRef } } },
      async (request, reply) => {
        const id = Number(request.params.id);
        // Beyond a serial's range no note can exist (and PostgreSQL would reject the comparison).
        const [note] = id <= MAX_SERIAL ? await db().select().from(notes).where(eq(notes.id, id)) : [];
        return note ?? reply.status(404).send({ error: 'not_found', message: `No note ${request.params.id}.` });
      },
    );

    app.post(
      '/',
      { onRequest: app.requireAdmin, schema: { summary: 'Add a note', body: NewNote, response: { 201: Note, '4xx': errorRef, '5xx': errorRef } } },
      async (request, reply) => {
        const body = request.body.body ?? '';
        const limit = settingOf('max_body_length');
        if (body.length > limit) return reply.status(400).send({ error: 'invalid_body', message: `A note body may have at most ${limit} characters.` });
        const [note] = await db().insert(notes).values({ title: request.body.title, body }).returning();
        return reply.status(201).send(note!); // one row inserted, one returned
      },
    );
  },
});
