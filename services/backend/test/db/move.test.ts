import { sql } from 'drizzle-orm';
import { customType, date, doublePrecision, integer, jsonb, numeric, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../../test/helpers/postgres.ts';
import { tempDir } from '../../../../test/helpers/temp.ts';
import { loadConfig } from '../../src/config.ts';
import { openDriver, type DatabaseDriver } from '../../src/db/drivers/index.ts';
import { moveDatabase, MoveRefusedError, MoveVerificationError, TargetNotEmptyError } from '../../src/db/move/index.ts';
import { definePlugin } from '../../src/plugins/index.ts';
import { syncPluginSchema } from '../../src/plugins/schema-sync.ts';

const bytea = customType<{ data: string }>({ dataType: () => 'bytea' });

// A plugin whose table has the column types whose text rendering a move depends on.
const kinds = definePlugin({
  id: 'kinds',
  name: 'Kinds',
  version: '1.0.0',
  tables: (table) => ({
    values: table('values', {
      id: serial('id').primaryKey(),
      label: text('label'),
      at: timestamp('at', { withTimezone: true, precision: 6 }),
      day: date('day'),
      amount: numeric('amount', { precision: 14, scale: 4 }),
      ratio: doublePrecision('ratio'),
      payload: jsonb('payload'),
      blob: bytea('blob'),
      tags: text('tags').array(),
      ticket: integer('ticket').generatedAlwaysAsIdentity(),
      doubled: integer('doubled').generatedAlwaysAs(sql`id * 2`),
    }),
  }),
});

const ROWS_SQL = sql`select row(id, label, at, day, amount, ratio, payload, blob, tags, ticket, doubled)::text as r from kinds_values order by id`;

async function rowsOf(driver: DatabaseDriver): Promise<string[]> {
  return driver.db.transaction(async (tx) => {
    await tx.execute(sql`set local timezone = 'UTC'`);
    return ((await tx.execute(ROWS_SQL)) as unknown as { rows: { r: string }[] }).rows.map((row) => row.r);
  });
}

describe('moveDatabase (PGlite → PostgreSQL, in process)', () => {
  let folder: ReturnType<typeof tempDir>;
  let database: TestDatabase;
  let source: DatabaseDriver;
  let target: DatabaseDriver;
  beforeEach(async () => {
    folder = tempDir();
    database = await createTestDatabase();
    const config = loadConfig({ ...database.env, PERSISTENT_DATA_DIR: folder.path });
    source = await openDriver('pglite', config, console);
    target = await openDriver('postgresql', config, console);
    const session = await source.lock();
    await session.migrate();
    await syncPluginSchema(session.db, kinds, undefined);
    await source.db.execute(sql`insert into kinds_values (label, at, day, amount, ratio, payload, blob, tags) values
      (${'quote " comma , paren ) backslash \\ newline\n é 😀'}, '2026-11-26 10:00:00.123456+05:30', '2026-02-28', '1234567890.1234', 0.1,
       '{"nested": {"list": [1, 2.50, null, "x"]}, "é": true}', '\\x00ff10', '{"a b", NULL, "q\\"uote"}'),
      (null, null, null, null, 'NaN', null, null, null),
      ('inf', '-infinity', '0001-01-01', '-0.0001', '-Infinity', '[]', '\\x', '{}')`);
    await source.db.execute(sql`insert into kinds_values (label, ratio) select 'row ' || i, i / 7.0 from generate_series(1, 2500) i`);
    await source.db.execute(sql`delete from kinds_values where id = 2000`);
  });
  afterEach(async () => {
    await target.close();
    await source.close();
    await database.drop();
    folder.remove();
  });

  it('copies every row exactly, in batches, sets sequences and identities past the highest value, and verifies', async () => {
    // A table that neither the migrations nor a plugin's recorded schema makes is refused, named.
    await source.db.execute(sql`create table stray (id int)`);
    await expect(moveDatabase({ source, target })).rejects.toThrow(MoveRefusedError);
    await expect(moveDatabase({ source, target })).rejects.toThrow(/table public\.stray is not created by this release/);
    await source.db.execute(sql`drop table stray`);
    expect(await database.query(`select count(*)::int as n from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')`)).toEqual([{ n: 0 }]);

    const progress: number[] = [];
    const stages: string[] = [];
    const report = await moveDatabase({
      source,
      target,
      // Small chunks: the COPY from PGlite streams in several.
      chunkPages: 8,
      onStage: (stage) => void stages.push(stage),
      onProgress: (table, done, total) => table === 'public.kinds_values' && progress.push(done, total),
    });
    expect(stages).toEqual(['building', 'copying', 'verifying']);
    expect(progress.length).toBeGreaterThan(6);
    expect(progress.filter((_, index) => index % 2 === 1).every((total) => total === 2502)).toBe(true);
    const done = progress.filter((_, index) => index % 2 === 0);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(done.at(-1)).toBe(2502);
    expect(report).toMatchObject({ alreadyCopied: false, target: expect.stringContaining(database.name) });
    expect(report.tables.find((table) => table.name === 'public.kinds_values')).toMatchObject({ rows: 2502, checksum: expect.stringMatching(/^-?\d+$/) });
    // The bookkeeping tables travel too: applied migrations, plugins' recorded schemas, the key id.
    expect(report.tables.map((table) => table.name)).toEqual(expect.arrayContaining(['drizzle.__drizzle_migrations', 'public.plugin_schemas', 'public.settings_encryption']));

    expect(await rowsOf(target)).toEqual(await rowsOf(source));
    // Next ids: past the highest value (2503), the identity past its last (2503).
    expect(await database.query(`insert into kinds_values (label) values ('new') returning id, ticket, doubled`)).toEqual([{ id: 2504, ticket: 2504, doubled: 5008 }]);

    // The same target again: the copy is recognised as exact (a move stopped before it switched).
    await database.query(`delete from kinds_values where label = 'new'`);
    expect(await moveDatabase({ source, target })).toMatchObject({ alreadyCopied: true, rows: report.rows });
    // Once the source changed, the target is just not empty.
    await source.db.execute(sql`insert into kinds_values (label) values ('later')`);
    await expect(moveDatabase({ source, target })).rejects.toThrow(TargetNotEmptyError);
    await expect(moveDatabase({ source, target })).rejects.toThrow(/is not empty: it has \d+ table\(s\) \(drizzle\.__drizzle_migrations, public\.admin_tokens/);
  });
  it("per-statement reads (a running server's move): exact, the source's other queries run between reads, a row changed meanwhile fails the verification", async () => {
    const answeredDuringMove: number[] = [];
    const report = await moveDatabase({
      source,
      target,
      sourceReads: 'per-statement',
      onStage: async (stage) => {
        if (stage !== 'verifying') return;
        // One long source transaction would hold this query of the same PGlite until the move ends.
        const query = source.db.execute(sql`select count(*)::int as n from kinds_values`);
        const answered = await Promise.race([query.then((result) => (result as unknown as { rows: { n: number }[] }).rows[0]!.n), new Promise<null>((resolve) => setTimeout(() => resolve(null), 5_000))]);
        if (answered !== null) answeredDuringMove.push(answered);
      },
    });
    expect(answeredDuringMove).toEqual([2502]);
    expect(report.tables.find((table) => table.name === 'public.kinds_values')).toMatchObject({ rows: 2502 });
    expect(await rowsOf(target)).toEqual(await rowsOf(source));
    expect(await database.query(`insert into kinds_values (label) values ('new') returning id`)).toEqual([{ id: 2504 }]);

    // Into an empty database again, while something writes the source after its rows were copied.
    const again = await createTestDatabase();
    const config = loadConfig({ ...again.env, PERSISTENT_DATA_DIR: folder.path });
    const second = await openDriver('postgresql', config, console);
    try {
      const move = moveDatabase({
        source,
        target: second,
        sourceReads: 'per-statement',
        onStage: async (stage) => {
          if (stage === 'verifying') await source.db.execute(sql`update kinds_values set label = 'changed' where id = 1`);
        },
      });
      await expect(move).rejects.toThrow(MoveVerificationError);
      await expect(move).rejects.toThrow(/public\.kinds_values: same 2502 row\(s\) but different content/);
      expect(await again.query(`select count(*)::int as n from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')`)).toEqual([{ n: 0 }]);
    } finally {
      await second.close();
      await again.drop();
    }
  });
  it('stopped midway through the COPY stream, or a row the target refuses there: everything rolls back, and the same target takes the move after', async () => {
    const noTables = async () =>
      expect(await database.query(`select count(*)::int as n from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')`)).toEqual([{ n: 0 }]);
    // Stopped on this side (a running server's move is told to stop): CopyFail, then the rollback.
    const stop = new Error('stopped by the test');
    const stopping = (table: string, done: number) => {
      if (table === 'public.kinds_values' && done > 500) throw stop;
    };
    await expect(moveDatabase({ source, target, chunkPages: 2, onProgress: stopping })).rejects.toBe(stop);
    await noTables();

    // The source lost its primary key (a move compares columns, not constraints): a duplicate id at
    // the end of the table reaches the target after several chunks went in.
    await source.db.execute(sql`alter table kinds_values drop constraint kinds_values_pkey`);
    await source.db.execute(sql`insert into kinds_values (id, label) values (1, 'duplicate')`);
    const progress: number[] = [];
    await expect(
      moveDatabase({ source, target, chunkPages: 2, onProgress: (table, done) => table === 'public.kinds_values' && progress.push(done) }),
    ).rejects.toThrow(/duplicate key value violates unique constraint/);
    expect(progress.filter((done) => done > 0).length).toBeGreaterThan(2);
    await noTables();

    await source.db.execute(sql`delete from kinds_values where label = 'duplicate'`);
    await source.db.execute(sql`alter table kinds_values add primary key (id)`);
    expect(await moveDatabase({ source, target })).toMatchObject({ alreadyCopied: false });
    expect(await rowsOf(target)).toEqual(await rowsOf(source));
  });
});
