import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';

describe('request logging', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('logs request URLs with the value of ?token= redacted, wherever it is in the query', async () => {
    t = await startApp();
    const secret = 'leaky-setup-token-value-0123456789';
    for (const url of [`/setup?token=${secret}`, `/api/db/status?lang=en&token=${secret}&x=1`]) await t.app.inject(url);

    const requests = t.logs.map((line) => JSON.parse(line)).filter((entry) => entry.req);
    expect(requests.map((entry) => entry.req.url)).toEqual(['/setup?token=[redacted]', '/api/db/status?lang=en&token=[redacted]&x=1']);
    expect(t.logs.join('\n')).not.toContain(secret);
  });
});
