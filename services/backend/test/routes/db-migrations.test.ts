import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { MIGRATION_TAGS } from '../../../../test/helpers/migrations.ts';

describe('GET /api/db/migrations', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('answers 503 database_not_ready until setup is done, then lists what was applied', async () => {
    t = await startApp();
    const early = await t.app.inject('/api/db/migrations');
    expect(early.statusCode).toBe(503);
    expect(early.json()).toEqual({ error: 'database_not_ready', message: expect.stringContaining('/setup') });

    expect((await t.setUp('pglite')).statusCode).toBe(200);
    const listed = await t.app.inject('/api/db/migrations');
    expect(listed.statusCode).toBe(200);
    expect(listed.json()).toEqual({ applied: MIGRATION_TAGS, pending: [], unknown: [], schema: 'current' });
  });

  it('keeps unknown /api paths a 404 in the one error shape', async () => {
    t = await startApp();
    const response = await t.app.inject('/api/nothing-here');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'not_found', message: 'Nothing at GET /api/nothing-here.' });
  });
});
