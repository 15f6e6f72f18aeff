/// <reference types="vitest/config" />
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';

/**
 * The production CSP lives in .env.production (VITE_CSP, also the index.html meta tag). A meta
 * tag does not reach the analysis worker, so `vite preview` (what `npm start` serves) sends the
 * same policy as a real header, plus the headers a meta tag cannot carry; public/_headers does the
 * same for static hosts.
 */
function productionHeaders(): Record<string, string> {
  const m = /^VITE_CSP="(.*)"$/m.exec(readFileSync(new URL('./.env.production', import.meta.url), 'utf8'));
  if (!m) throw new Error('.env.production must define VITE_CSP');
  return {
    'Content-Security-Policy': `${m[1]}; frame-ancestors 'none'`,
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
  };
}

// One config for the app build and for vitest: the `projects` split keeps core
// tests in plain Node (no DOM to lean on by accident) and UI tests in jsdom.
export default defineConfig({
  plugins: [
    react(),
    VitePWA({
      registerType: 'prompt',
      injectRegister: false,
      includeAssets: ['icons/*.png', 'icons/*.svg'],
      manifest: {
        name: 'FundusLens — DR screening aid',
        short_name: 'FundusLens',
        description:
          'Offline diabetic-retinopathy screening aid for colour fundus photographs. Runs entirely on this device. Not a diagnosis.',
        theme_color: '#1d3557',
        background_color: '#0b132b',
        display: 'standalone',
        start_url: '.',
        scope: '.',
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        // The model bundle and the tfjs wasm binaries are part of the app: a clinic
        // laptop must analyse with the cable pulled after one visit.
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest,wasm,json,bin,jpg}'],
        maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
        cleanupOutdatedCaches: true,
      },
    }),
  ],
  // The app's workers get tfjs-core + tfjs-layers only (src/worker/tfjs-lean.ts says why); vitest keeps the real
  // package, as do the CLI and training, which never go through this config's build.
  resolve: process.env.VITEST ? {} : { alias: [{ find: /^@tensorflow\/tfjs$/, replacement: fileURLToPath(new URL('./src/worker/tfjs-lean.ts', import.meta.url)) }] },
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 4096 },
  server: { port: 5173 },
  preview: { port: 4173, headers: productionHeaders() },
  test: {
    projects: [
      {
        // not extending the root config: core tests need no React/PWA plugins
        test: {
          name: 'node',
          environment: 'node',
          include: ['src/core/**/*.test.ts', 'src/cli/**/*.test.ts', 'src/worker/**/*.test.ts', 'training/src/**/*.test.ts', 'bench/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        extends: true,
        test: {
          name: 'ui',
          environment: 'jsdom',
          include: ['src/{store,render,components,services,app}/**/*.test.{ts,tsx}'],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
