// Core tables, one file per concern. drizzle-kit reads this file to generate migrations.
export * from './admin-tokens.ts';
export * from './plugin-schemas.ts';
export * from './settings.ts';
export * from './setup-record.ts';
