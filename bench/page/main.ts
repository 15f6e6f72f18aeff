/// <reference types="vite/client" />
/**
 * Browser side of `npm run bench`: cold start (everything since navigation: this bundle,
 * backend start, model download + load, warm-up, decode, first analysis), then the warm
 * runs of bench/lib/measure.ts. Parameters come from the URL; the record is left in
 * `window.__bench` (or `window.__benchError`) for Playwright to collect.
 * Runs on the page's main thread (the app runs the same core code in a worker).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { setupBackend } from '../../src/core/backends/index';
import { loadBundle, type BundleReader } from '../../src/core/model/bundle';
import type { RgbImage } from '../../src/core/types';
import { bitmapPixels } from '../../src/worker/bitmap-pixels';
import { benchModel, coldStart, type BenchRecord } from '../lib/measure';

declare global {
  interface Window {
    __bench?: BenchRecord & { userAgent: string; adapter?: string; navigationToFirstResultMs: number; jsHeapMb?: number };
    __benchError?: string;
  }
}

const q = new URLSearchParams(location.search);
const backend = q.get('backend') ?? 'wasm';
const modelName = q.get('model') ?? 'demo';
const runs = Number(q.get('runs') ?? 10);
const budgetMs = Number(q.get('budget') ?? 120) * 1000;
const warmupRuns = Number(q.get('warmup') ?? 10);
const k = Number(q.get('k') ?? 1);
const skipGuided = q.get('skipGuided') === '1';
const logEl = document.getElementById('log')!;
const log = (s: string) => {
  logEl.textContent += `\n${s}`;
  console.log(s);
};

function fetchReader(base: string): BundleReader {
  return {
    async read(path) {
      const res = await fetch(new URL(path, base).href);
      return res.ok ? new Uint8Array(await res.arrayBuffer()) : null;
    },
  };
}

let photo: Blob | null = null;
async function decode(): Promise<RgbImage> {
  photo ??= await (await fetch('./photo.jpg')).blob();
  // as the app's worker does it (WebCodecs copy where it works, else the canvas)
  const bmp = await createImageBitmap(photo, { imageOrientation: 'from-image' });
  try {
    return { width: bmp.width, height: bmp.height, channels: 4, data: (await bitmapPixels(bmp)).data };
  } finally {
    bmp.close();
  }
}

async function adapterInfo(): Promise<string | undefined> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, unknown>; isFallbackAdapter?: boolean } | null> } }).gpu;
  if (!gpu) return 'navigator.gpu missing';
  const a = await gpu.requestAdapter();
  if (!a) return 'no adapter';
  const i = a.info ?? {};
  return `${String(i.vendor ?? '?')} ${String(i.architecture ?? '')} ${String(i.description ?? '')}${a.isFallbackAdapter ? ' (fallback adapter)' : ''}`.trim();
}

async function main(): Promise<void> {
  setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded });
  const adapter = backend === 'webgpu' ? await adapterInfo() : undefined;
  const got = await setupBackend([backend]);
  if (got !== backend) throw new Error(`asked for ${backend}, got ${got}`);
  log(`backend ${got}${adapter ? ` (${adapter})` : ''}`);
  const { model, cold } = await coldStart(() => loadBundle(fetchReader(new URL(`./models/${modelName}/`, location.href).href), { foldBatchNorm: true }), decode, k);
  const navigationToFirstResultMs = performance.now();
  log(`cold start ${Math.round(navigationToFirstResultMs)} ms since navigation (load ${Math.round(cold.loadMs)}, warm-up ${Math.round(cold.warmupMs)}, first analysis ${Math.round(cold.firstAnalysisMs)})`);
  const rec = await benchModel(model, decode, { runs, budgetMs, k, skipGuided, warmupRuns, log });
  model.dispose();
  const mem = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
  window.__bench = {
    ...rec,
    cold,
    userAgent: navigator.userAgent,
    adapter,
    navigationToFirstResultMs,
    jsHeapMb: mem ? Math.round(mem.usedJSHeapSize / 2 ** 20) : undefined,
  };
  log('done');
}

main().catch((e: unknown) => {
  window.__benchError = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
  log(`FAILED: ${window.__benchError}`);
});
void tf.version_core;
