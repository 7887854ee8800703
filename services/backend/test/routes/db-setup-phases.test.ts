import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../../../../test/helpers/app.ts';
import { SETUP_PHASES } from '../../src/setup/phases.ts';

describe('GET /api/db/setup/phases', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startApp();
  });
  afterEach(() => t.close());

  it('lists the phases the runner runs, in its order, with their labels, before setup', async () => {
    const response = await t.app.inject('/api/db/setup/phases');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      phases: [
        { name: 'connect', label: 'Connect to the database' },
        { name: 'migrate', label: 'Create and update the tables' },
        { name: 'settings', label: 'Prepare the settings' },
        { name: 'plugins', label: 'Prepare the plugins' },
        { name: 'commit', label: 'Save the choice' },
      ],
    });
    // The very list the runner uses: a phase added there shows up here.
    expect(response.json().phases).toEqual(SETUP_PHASES.map(({ name, label }) => ({ name, label })));
  });

});
