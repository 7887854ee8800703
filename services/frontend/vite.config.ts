import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

export default defineConfig({
  plugins: [vue()],
  // In development the backend runs separately; in production it serves dist/ itself.
  server: { proxy: { '/api': 'http://127.0.0.1:3000' } },
  build: { outDir: 'dist' },
});
