/**
 * Vite build of the dashboard. The node serves `dist/` at `/` (same origin as
 * the API), so asset URLs are absolute from the root and the dev server
 * proxies the API to a local node (PARLEY_API, default http://127.0.0.1:8080).
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1500 },
  server: {
    proxy: { '/v1': { target: process.env['PARLEY_API'] ?? 'http://127.0.0.1:8080', changeOrigin: false } },
  },
});
