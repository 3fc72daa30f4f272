// Builds the dashboard renderer into dist/ as static files (relative paths,
// so any static server can serve it). See README.md beside this file.
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  esbuild: { jsx: 'automatic' },
  build: { outDir: 'dist', chunkSizeWarningLimit: 100000, sourcemap: false },
  logLevel: 'warn',
});
