import { defineConfig } from 'drizzle-kit';

// One schema, one set of migrations, used by both drivers (PGlite and PostgreSQL server).
// `npm run db:studio` opens DATABASE_URL; an instance on PGlite is opened through its running
// server's PGLITE_SOCKET_PORT (the server holds the folder, so nothing else may open it).
const pgliteSocketPort = process.env.PGLITE_SOCKET_PORT;
const url =
  process.env.DATABASE_URL ||
  (pgliteSocketPort ? `postgres://postgres@127.0.0.1:${pgliteSocketPort}/postgres` : 'postgres://localhost:5432/groundwork');

export default defineConfig({
  dialect: 'postgresql',
  schema: './services/backend/src/db/schema/index.ts',
  out: './drizzle',
  dbCredentials: { url },
});
