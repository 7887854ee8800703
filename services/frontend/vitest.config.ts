import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

/** Component tests for the front end; the root vitest.config.ts runs them as the "frontend" project. */
export default defineConfig({
  plugins: [vue()],
  test: {
    name: 'frontend',
    root: import.meta.dirname,
    include: ['test/**/*.test.ts'],
    environment: 'happy-dom',
  },
});
