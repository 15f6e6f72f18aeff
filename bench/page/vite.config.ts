/**
 * The browser bench page: a separate, tiny Vite build (not the app) that runs core's
 * analysis pipeline on the main thread with the backend named in the URL. bench/bench.ts
 * builds it into bench/out/page and serves it together with the model bundles.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../out/page', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 8000,
  },
});
