import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Most tests wait on databases and child processes, not on the CPU.
    maxWorkers: 4,
    // `vitest run --coverage`: the backend's code as the in-process tests exercise it (servers
    // started as child processes are not measured), printed as a summary and per file.
    coverage: {
      provider: 'v8',
      include: ['services/backend/src/**'],
      // Process entries run only as child processes (the process tests start them): v8 in this
      // process never sees them, so counting them would only measure that.
      exclude: ['services/backend/src/server.ts', 'services/backend/src/main.ts', 'services/backend/src/cli/**'],
      reporter: ['text-summary', 'text'],
      // The goal is 85 % (issue 13); a full run measured 85.8 %. One point below it, because paths
      // that depend on timing (retries, reconnects) are not taken in every run.
      thresholds: { 'services/backend/src/**': { lines: 84 } },
      // Print it even when a test fails: a long run should not end with no number at all.
      reportOnFailure: true,
    },
    projects: [
      {
        test: {
          name: 'backend',
          include: ['services/backend/test/**/*.test.ts', 'test/**/*.test.ts'],
          // One real PostgreSQL server for the whole run; each test file makes its own databases in it.
          globalSetup: ['test/global-setup.ts'],
          // A fresh PGlite data folder runs initdb in WASM (3–7 s, far more on a busy 2-core machine).
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      // Component tests: Vue single-file components in happy-dom, with the front end's own Vite plugins.
      'services/frontend/vitest.config.ts',
    ],
  },
});
