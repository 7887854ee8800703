import { describe, expect, it } from 'vitest';
import { startApp } from '../../../../test/helpers/app.ts';

describe('GET /api/docs', () => {
  it('serves the OpenAPI description before setup, with every route', async () => {
    const t = await startApp();
    try {
      const response = await t.app.inject('/api/docs/json');
      expect(response.statusCode).toBe(200);
      const paths = Object.keys(response.json().paths);
      expect(paths).toEqual(expect.arrayContaining(['/api/db/status', '/api/db/setup', '/api/db/migrations', '/api/health', '/api/health/ready', '/api/settings', '/api/settings/{key}', '/api/settings/groups/{groupId}', '/api/db/location', '/api/plugins']));
      expect((await t.app.inject('/api/docs/')).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});
