// Core tables, one file per concern. drizzle-kit reads this file to generate migrations.
export * from './setup-record.ts';
