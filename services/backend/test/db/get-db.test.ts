import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { DatabaseNotReadyError, getDb } from '../../src/db/index.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';

describe('getDb()', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('throws DatabaseNotReadyError until setup, returns a working Drizzle database after, and throws again once closed', async () => {
    t = await startApp();
    expect(() => getDb()).toThrow(DatabaseNotReadyError);
    expect((await t.setUp('pglite')).statusCode).toBe(200);
    const result = (await getDb().execute(sql`select 41 + 1 as answer`)) as unknown as { rows: { answer: number }[] };
    expect(result.rows).toEqual([{ answer: 42 }]);
    await t.app.close();
    expect(() => getDb()).toThrow(DatabaseNotReadyError);
  });
});
