import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { getDb } from '../../src/db/index.ts';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../../../../test/helpers/postgres.ts';

/** A route that answers with the name of the database getDb() gives it. */
function addWhoAmI(t: TestApp): void {
  t.app.get('/api/test/which-database', async () => {
    const result = (await getDb().execute(sql`select current_database() as name`)) as unknown as { rows: { name: string }[] };
    return { name: result.rows[0]!.name };
  });
}

describe('two apps in one process', () => {
  const apps: TestApp[] = [];
  const databases: TestDatabase[] = [];
  afterEach(async () => {
    for (const t of apps.splice(0)) await t.close();
    for (const db of databases.splice(0)) await db.drop();
  });

  it('each serves its own database, through getDb() too, and closing one leaves the other ready', async () => {
    for (let i = 0; i < 2; i += 1) {
      const db = await createTestDatabase();
      databases.push(db);
      const t = await startApp(db.env);
      addWhoAmI(t);
      apps.push(t);
      expect((await t.setUp('postgresql')).statusCode).toBe(200);
    }
    const [a, b] = apps as [TestApp, TestApp];
    const [dbA, dbB] = databases as [TestDatabase, TestDatabase];

    expect((await a.app.inject('/api/test/which-database')).json()).toEqual({ name: dbA.name });
    expect((await b.app.inject('/api/test/which-database')).json()).toEqual({ name: dbB.name });

    await b.app.close();
    apps.pop();
    const migrations = await a.app.inject('/api/db/migrations');
    expect(migrations.statusCode).toBe(200);
    expect(migrations.json().pending).toEqual([]);
    expect((await a.app.inject('/api/test/which-database')).json()).toEqual({ name: dbA.name });
    // Outside any request, getDb() is the database of the app still open.
    const outside = (await getDb().execute(sql`select current_database() as name`)) as unknown as { rows: { name: string }[] };
    expect(outside.rows[0]!.name).toBe(dbA.name);
  });
});
