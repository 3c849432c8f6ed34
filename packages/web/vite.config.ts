/**
 * Vite build of the dashboard. The node serves `dist/` at `/` (same origin as
 * the API), so asset URLs are absolute from the root and the dev server
 * proxies the API to a local node (PARLEY_API, default http://127.0.0.1:8080).
 * After the build, build/serveReady.ts moves the (hidden) source maps to
 * `sourcemaps/` and writes brotli and gzip siblings of every text file.
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { serveReady } from './build/serveReady.js';

export default defineConfig({
  plugins: [react(), serveReady({ mapsDir: fileURLToPath(new URL('./sourcemaps', import.meta.url)) })],
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: 'hidden', chunkSizeWarningLimit: 1500 },
  server: {
    proxy: { '/v1': { target: process.env['PARLEY_API'] ?? 'http://127.0.0.1:8080', changeOrigin: false } },
  },
});
