import { describe, expect, it } from 'vitest';
import { compareMigrations } from '../../src/db/backup/restore.ts';
import type { BackupManifest } from '../../src/db/backup/manifest.ts';
import { linesOf, restorableOnOlderServers, SqlStatementSplitter } from '../../src/db/backup/sql-script.ts';
import { readJournal } from '../../src/db/migrations.ts';

function split(script: string): string[] {
  const splitter = new SqlStatementSplitter();
  const statements = script.split('\n').flatMap((line) => splitter.push(line));
  splitter.finish();
  return statements;
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const line of lines) all.push(line);
  return all;
}

describe('reading a plain-SQL dump', () => {
  it('splits statements where psql would, not inside quotes, dollar quotes or comments', () => {
    const script = [
      '-- a comment; not a statement',
      '\\restrict abc',
      "INSERT INTO t VALUES (1, 'a;b', 'it''s', \"odd;name\", E'x\\';y');",
      "INSERT INTO t VALUES (2, 'multi",
      '\\restrict inside a value',
      "-- also inside;', $q$ ; $q$);",
      'CREATE FUNCTION f() RETURNS int AS $$ select 1; $$ LANGUAGE sql; /* c; */ SELECT 1;',
      '\\unrestrict abc',
    ].join('\n');
    expect(split(script)).toEqual([
      "INSERT INTO t VALUES (1, 'a;b', 'it''s', \"odd;name\", E'x\\';y');",
      "INSERT INTO t VALUES (2, 'multi\n\\restrict inside a value\n-- also inside;', $q$ ; $q$);",
      'CREATE FUNCTION f() RETURNS int AS $$ select 1; $$ LANGUAGE sql;',
      '/* c; */ SELECT 1;',
    ]);
  });

  it('refuses a script cut in the middle of a statement', () => {
    const splitter = new SqlStatementSplitter();
    splitter.push("INSERT INTO t VALUES (1, 'unfinished");
    expect(() => splitter.finish()).toThrow(/incomplete/);
  });

  it('splits lines on \\n only: a carriage return inside a value stays data', async () => {
    expect(await collect(linesOf(['a\r', 'b\nc', '\n', 'd']))).toEqual(['a\rb', 'c', 'd']);
    expect(await collect(linesOf([Buffer.from('é✓\n'.repeat(2)).subarray(0, 3), Buffer.from('é✓\n'.repeat(2)).subarray(3)]))).toEqual(['é✓', 'é✓']);
  });

  it('drops the SET lines PostgreSQL 15 and 16 reject from the preamble only', async () => {
    const lines = ['SET lock_timeout = 0;', 'SET transaction_timeout = 0;', 'CREATE TABLE t (x text);', "INSERT INTO t VALUES ('a", 'SET transaction_timeout = 0;', "');"];
    expect(await collect(restorableOnOlderServers(linesOf([lines.join('\n')])))).toEqual(lines.filter((_, index) => index !== 1));
  });
});

describe('a backup\'s migrations against the code', () => {
  const journal = readJournal();
  const manifest = (migrations: { tag: string; createdAt: number }[]): BackupManifest => ({
    format: 1,
    appVersion: '9.9.9',
    databaseType: 'pglite',
    createdAt: new Date().toISOString(),
    migrations,
    plugins: [],
    encryption: null,
  });

  it('lists the code\'s migrations an older backup lacks, to apply after the restore', () => {
    const older = journal.slice(0, -1).map((entry) => ({ tag: entry.tag, createdAt: entry.when }));
    expect(compareMigrations(manifest(older))).toEqual({ pending: [journal.at(-1)!.tag] });
    expect(compareMigrations(manifest(journal.map((entry) => ({ tag: entry.tag, createdAt: entry.when }))))).toEqual({ pending: [] });
  });

  it('refuses a backup from a newer version, naming its migration and the code\'s latest', () => {
    const newer = [...journal.map((entry) => ({ tag: entry.tag, createdAt: entry.when })), { tag: '0999_later', createdAt: 4_102_444_800_000 }];
    expect(() => compareMigrations(manifest(newer))).toThrow(`newer Groundwork (9.9.9): it has migration 0999_later, which this version does not know (its latest is ${journal.at(-1)!.tag})`);
  });
});
