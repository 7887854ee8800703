import { describe, expect, it } from 'vitest';
import { spawnServer } from '../helpers/server-process.ts';

describe('a server started with a bad environment', () => {
  it('exits 1 and lists every problem in plain words, never a secret', async () => {
    const attempt = spawnServer({ PORT: 'eighty', DB_POOL_MAX: '0', DATABASE_URL: 'mysql://u:hunter2-secret@h/db', LOG_LEVEL: 'loud' });
    const error = await attempt.then(
      () => null,
      (failure: Error) => failure.message,
    );
    expect(error).toContain('exited (code 1)');
    expect(error).toContain('Invalid configuration');
    expect(error).toMatch(/PORT/);
    expect(error).toMatch(/DB_POOL_MAX/);
    expect(error).toMatch(/LOG_LEVEL/);
    expect(error).toContain('DATABASE_URL must start with postgres://');
    expect(error).not.toContain('hunter2-secret');
  });
});
