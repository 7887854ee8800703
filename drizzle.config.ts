import { defineConfig } from 'drizzle-kit';

// One schema, one set of migrations, used by both drivers (PGlite and PostgreSQL server).
export default defineConfig({
  dialect: 'postgresql',
  schema: './services/backend/src/db/schema/index.ts',
  out: './drizzle',
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://localhost:5432/groundwork' },
});
