/**
 * The analysis worker: owns tfjs, the model and every tensor. The page talks to it only
 * through the comlink API in ./api.ts (plain data in, plain data out, pixels and bitmaps
 * transferred). Decoding happens here too, so a 12 MP JPEG never blocks the page.
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { FundusLensError, isFundusLensError } from '../core/errors';
import type { CamMethod, RgbImage, StageName } from '../core/types';
import { analyze, explainDetails, lesionIndices, warmUpAnalysis } from '../core/analyze';
import { loadBundle, prefetchBundle, type FundusModel, type BundleReader } from '../core/model';
import { fetchReader } from './fetch-reader';
import { setupBackend } from '../core/backends';
import { BACKEND_ORDER, MAX_ANALYSIS_SIDE } from './api';
import type { AnalysisWorkerApi, AnalyzeResponse, BackendName, DecodedPhoto, DetailsResponse, ModelInfo, Notice, PhotoChecksMode, ProgressCallback, WorkerErrorShape, WorkerInit } from './api';
import { autoOrder, probeWebGl, probeWebGpu } from './gpu-probe';
import { photoStageSteps } from './jit-warmup';
import { downscaleFactor, orientedSize, readImageHeader } from './image-header';
import { bitmapPixels, PIXELS_MARK } from './bitmap-pixels';
import { createPhotoChecksClient, type PhotoChecksEndpoint } from './photo-checks-client';
import type { PhotoChecks } from '../core/photo-checks';

const BUNDLED_WASM: Record<string, string> = {
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  // never loaded (see WASM_HAS_MULTITHREAD_SUPPORT below), but setWasmPaths wants an entry for every binary
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
};

/** comlink drops `code` from Error objects: throw plain data instead. */
function plainError(e: unknown): WorkerErrorShape {
  if (isFundusLensError(e)) return { name: 'FundusLensError', code: e.code, message: e.message, file: e.file };
  const msg = e instanceof Error ? e.message : String(e);
  return { name: 'Error', code: 'backend-failed', message: msg };
}

async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw plainError(e);
  }
}

/**
 * A job that needs the model: stops a pending warm-up (the photo goes first), and registers a
 * cancel signal for `id` for as long as the job runs.
 */
function modelJob<T>(id: string, fn: (signal: { aborted: boolean }) => Promise<T>): Promise<T> {
  return guard(async () => {
    cancelWarmup();
    if (!model) throw new FundusLensError('backend-failed', 'The model is not loaded yet.');
    const signal = { aborted: false };
    signals.set(id, signal);
    try {
      return await fn(signal);
    } finally {
      signals.delete(id);
    }
  });
}

// ---------------------------------------------------------------- model and backend

let model: FundusModel | null = null;
let wasmPathsSet = false;
let reader: BundleReader | null = null;
let readerBase = '';
let backend: BackendName | null = null;
/** backends still to try after the current one fails at run time */
let fallbacks: BackendName[] = [];
let warmupMs = 0;
/** the class-activation map warmed at the latest load (a run-time fallback warms the same) */
let warmCam: CamMethod = 'gradcam';

async function candidateOrder(pref: WorkerInit['backend']): Promise<{ order: BackendName[]; skipped: ModelInfo['skipped']; softwareGpu: NonNullable<ModelInfo['softwareGpu']> }> {
  const skipped: ModelInfo['skipped'] = [];
  const gpu = await probeWebGpu();
  let order: BackendName[] = pref === 'auto' ? [...BACKEND_ORDER] : [pref, ...BACKEND_ORDER.filter((b) => b !== pref)];
  if (!gpu.available) {
    if (order.includes('webgpu')) skipped.push({ backend: 'webgpu', reason: 'no WebGPU adapter on this device' });
    order = order.filter((b) => b !== 'webgpu');
  }
  if (pref !== 'auto') return { order, skipped, softwareGpu: [] };
  // 'auto' wants the fastest backend: a software-rendered GPU is slower than wasm (gpu-probe.ts)
  const auto = autoOrder(order, [gpu, probeWebGl()]);
  for (const p of auto.demoted) skipped.push({ backend: p.backend, reason: `software renderer (${p.renderer}): slower than wasm on this device` });
  return { order: auto.order, skipped, softwareGpu: auto.demoted.map((p) => ({ backend: p.backend, renderer: p.renderer })) };
}

const isModelProblem = (e: unknown) => isFundusLensError(e) && e.code.startsWith('model-');

/**
 * wasm/cpu have nothing to compile: a warm-up pass (~130 ms on wasm at 512², demo model)
 * only makes the first forward ~40 ms faster. At load it would sit on the path to the first
 * result whenever a photo is already waiting (the bench clicks a sample at once: measured
 * 2.11 → 1.97 s navigation → result without it), so it runs a moment later, and only if
 * no photo arrived meanwhile: decode/analyze/details cancel it.
 */
const WARMUP_DELAY_MS = 500;
let warmTimer: ReturnType<typeof setTimeout> | null = null;
/** bumped by every job: a warm-up step of an older generation does not run */
let warmGeneration = 0;
function cancelWarmup(): void {
  warmGeneration++;
  if (warmTimer) clearTimeout(warmTimer);
  warmTimer = null;
}
/**
 * After WARMUP_DELAY_MS of idle time: the model's part, then the photo stages' JS (jit-warmup.ts), one step per
 * macrotask. Any job cancels the rest (cancelWarmup). The model's part: on wasm/cpu ('forward') its forward pass;
 * on a shader backend ('guided') guided backprop for 1, 2, … positive lesion labels (analyze.warmUpAnalysis), whose
 * programs (compiled per shape) a first photo with lesions would otherwise compile inside its result. A step
 * already running on the GPU finishes before a new photo's work starts: one guided pass, milliseconds on a real
 * GPU.
 */
function scheduleWarmup(m: FundusModel, modelPart: 'forward' | 'guided', cam: CamMethod): void {
  cancelWarmup();
  const generation = warmGeneration;
  const live = () => model === m && warmGeneration === generation;
  const steps = photoStageSteps(m.metadata.preprocess, !helperWanted());
  const next = (i: number) => {
    warmTimer = setTimeout(() => {
      warmTimer = null;
      if (!live() || i >= steps.length) return;
      try {
        steps[i]();
      } catch {
        return; // a warm-up only: a real problem shows in the first analysis
      }
      next(i + 1);
    }, 0);
  };
  const lesionLabels = lesionIndices(m.metadata.labels.map((l) => l.id)).length;
  warmTimer = setTimeout(() => {
    warmTimer = null;
    if (!live()) return;
    const modelWarm =
      modelPart === 'forward'
        ? m.warmup()
        : warmUpAnalysis(m, {
            cam,
            guidedLabels: Array.from({ length: lesionLabels }, (_, k) => k + 1),
            signal: { get aborted() { return !live(); } },
          });
    // a real failure shows in the first analysis; a job that arrived meanwhile bumped the generation: then nothing
    // more is warmed
    void modelWarm.catch(() => undefined).then(() => live() && next(0));
  }, WARMUP_DELAY_MS);
}

/**
 * Bring up the first backend of `order` that can load and warm up the model. Errors about
 * the bundle itself (missing file, bad hash…) are not the backend's fault: rethrow them.
 */
async function loadOn(order: BackendName[], skipped: ModelInfo['skipped'], cam: CamMethod): Promise<BackendName> {
  for (let i = 0; i < order.length; i++) {
    const b = order[i];
    try {
      // Only the wasm backend is in this worker's script: every other one is a chunk fetched and parsed when it is
      // tried, so a start does not pay for the backends it does not use (cold start; tfjs-lean.ts)
      if (b === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
      else if (b === 'webgl') await import('@tensorflow/tfjs-backend-webgl');
      else if (b === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
      const chosen = (await setupBackend([b])) as BackendName;
      model?.dispose();
      model = null;
      const m = await loadBundle(reader!, { foldBatchNorm: true });
      const w0 = performance.now();
      cancelWarmup();
      const shaderBackend = chosen === 'webgl' || chosen === 'webgpu';
      if (shaderBackend) {
        // Shader backends: the warm-up also proves the backend works (a failure falls back to
        // the next one) and compiles the forward AND the class-activation-map backward shaders, seconds on
        // a software GPU that would otherwise land inside the first result. It runs the forward itself (m.warmup()
        // before it ran a second one: a whole forward more at load). Guided backprop's shaders follow when idle
        // (scheduleWarmup): a photo clicked at once should not wait for them.
        await warmUpAnalysis(m, { cam });
      }
      // wasm/cpu: the model's warm-up later, when idle (see WARMUP_DELAY_MS); shader backends: guided backprop's
      // shaders then; every backend: the photo stages' JS
      scheduleWarmup(m, shaderBackend ? 'guided' : 'forward', cam);
      warmupMs = performance.now() - w0;
      model = m;
      backend = chosen;
      fallbacks = order.slice(i + 1);
      return chosen;
    } catch (e) {
      if (isModelProblem(e)) throw e;
      skipped.push({ backend: b, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  throw new FundusLensError('backend-failed', `No compute backend could run the model on this device (${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}).`);
}

async function init(o: WorkerInit, onProgress?: ProgressCallback): Promise<ModelInfo> {
  const t0 = performance.now();
  onProgress?.('loading-model', 0);
  if (!wasmPathsSet) {
    // once per worker: tfjs refuses new paths after a wasm initialisation attempt
    setWasmPaths({ ...BUNDLED_WASM, ...o.wasmPaths });
    // On a cross-origin isolated page (a host sending COOP/COEP) tfjs would pick its multi-threaded wasm build. Its
    // pthread workers are blob scripts that importScripts() the main script, which this bundled ES-module worker is
    // not (and our CSP allows no blob: workers): they fail, and the model never finished loading (no result after
    // 120 s, e2e/isolated-host.spec.ts). The single-threaded SIMD build is what runs everywhere else anyway.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    wasmPathsSet = true;
  }
  if (!reader || readerBase !== o.modelUrl) {
    reader = fetchReader(o.modelUrl);
    readerBase = o.modelUrl;
    // the model's files download while the backend is picked and started (both mostly wait)
    prefetchBundle(reader);
  }
  checksMode = o.photoChecks ?? 'auto';
  const { order, skipped, softwareGpu } = await candidateOrder(o.backend);
  warmCam = o.cam ?? 'gradcam';
  const chosen = await loadOn(order, skipped, warmCam);
  onProgress?.('loading-model', 1);
  const notices: Notice[] = [];
  const requested = o.backend === 'auto' ? order[0] : o.backend;
  if (chosen !== requested) {
    notices.push({ code: 'backend-fallback', message: `${requested} is not available here; using ${chosen}.`, values: { from: requested, to: chosen } });
  }
  const meta = model!.metadata;
  if (meta.training && (meta.training as { placeholder?: unknown }).placeholder === true) {
    notices.push({ code: 'placeholder-model', message: 'This model is an UNTRAINED placeholder: its results are meaningless.' });
  }
  // a demoted software GPU that ended up in use (every faster backend failed) was not skipped
  return {
    metadata: meta,
    backend: chosen,
    skipped: skipped.filter((s) => s.backend !== chosen),
    softwareGpu: softwareGpu.filter((g) => g.backend !== chosen),
    loadMs: performance.now() - t0,
    warmupMs,
    notices,
  };
}

// ---------------------------------------------------------------- decoding

interface Decoded {
  rgb: RgbImage;
}
const decoded = new Map<string, Decoded>();
const KEEP_DECODED = 2; // a 4096² RGBA photo is 64 MB: keep only the latest few

async function decodeFile(file: Blob): Promise<{ bitmap: ImageBitmap; rgb: RgbImage; originalWidth: number; originalHeight: number }> {
  const head = readImageHeader(new Uint8Array(await file.slice(0, 256 * 1024).arrayBuffer()));
  let bitmap: ImageBitmap;
  let originalWidth = 0;
  let originalHeight = 0;
  const fail = (why: string) =>
    new FundusLensError('decode-failed', `This file could not be opened as an image (${why}). It may be corrupt or incomplete, or in a format this browser cannot read — use JPEG, PNG or WebP.`);
  try {
    if (head) {
      const o = orientedSize(head);
      originalWidth = o.width;
      originalHeight = o.height;
      const f = downscaleFactor(o.width, o.height, MAX_ANALYSIS_SIDE);
      bitmap =
        f < 1
          ? await createImageBitmap(file, {
              imageOrientation: 'from-image',
              resizeWidth: Math.max(1, Math.round(o.width * f)),
              resizeHeight: Math.max(1, Math.round(o.height * f)),
              resizeQuality: 'high',
            })
          : await createImageBitmap(file, { imageOrientation: 'from-image' });
    } else {
      bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
      originalWidth = bitmap.width;
      originalHeight = bitmap.height;
      const f = downscaleFactor(bitmap.width, bitmap.height, MAX_ANALYSIS_SIDE);
      if (f < 1) {
        const small = await createImageBitmap(bitmap, { resizeWidth: Math.round(bitmap.width * f), resizeHeight: Math.round(bitmap.height * f), resizeQuality: 'high' });
        bitmap.close();
        bitmap = small;
      }
    }
  } catch (e) {
    throw fail(e instanceof Error ? e.message : 'unreadable data');
  }
  if (bitmap.width < 32 || bitmap.height < 32) {
    bitmap.close();
    throw new FundusLensError('image-too-small', `The image is only ${originalWidth}×${originalHeight} pixels; a fundus photo needs at least 32 pixels per side (ideally over 1000).`);
  }
  let data: Uint8ClampedArray;
  try {
    const px = await bitmapPixels(bitmap, { webCodecs: !head || head.orientation === 1 });
    data = px.data;
    // which route read the last photo's pixels, for DevTools' performance panel and the e2e suite (one mark, not
    // one per photo: a long batch would otherwise grow the timeline without end)
    performance.clearMarks(PIXELS_MARK);
    performance.mark(PIXELS_MARK, { detail: px.via });
  } catch (e) {
    bitmap.close();
    throw fail(e instanceof Error ? e.message : 'the pixels could not be read');
  }
  return { bitmap, rgb: { width: bitmap.width, height: bitmap.height, channels: 4, data }, originalWidth, originalHeight };
}

function remember(id: string, d: Decoded): void {
  decoded.delete(id);
  decoded.set(id, d);
  while (decoded.size > KEEP_DECODED) decoded.delete(decoded.keys().next().value as string);
}

// ---------------------------------------------------------------- photo checks beside the model

/**
 * The gradability gate, FOV and optic disc run in a second worker from the moment a photo is
 * decoded, while this one preprocesses and runs the model (core analyze's `photoChecks`).
 * 'auto' asks for 4 cores: the page, this worker and the helper each need one. On this
 * project's 2-vCPU machine the helper made the app's result 5–13 % slower (bench/README.md),
 * while with a core to spare (Node, 2 threads) it saves 22–33 %.
 */
const MIN_CORES_FOR_HELPER = 4;
let checksMode: PhotoChecksMode = 'auto';
const checksClient = createPhotoChecksClient(
  () => new Worker(new URL('./photo.worker.ts', import.meta.url), { type: 'module', name: 'funduslens-photo-checks' }) as unknown as PhotoChecksEndpoint,
);
/** Whether the checks should go to the helper (it may still turn out unavailable). */
function helperWanted(): boolean {
  if (checksMode === 'inline') return false;
  return checksMode === 'worker' || (self.navigator?.hardwareConcurrency ?? 1) >= MIN_CORES_FOR_HELPER;
}
const checks = new Map<string, Promise<PhotoChecks>>();
const KEEP_CHECKS = 4;

/** The checks of photo `id` (started now if they were not yet), or undefined when they would not run beside the model. */
function checksFor(id: string, rgb: RgbImage): Promise<PhotoChecks> | undefined {
  let c = checks.get(id);
  if (!c) {
    if (!helperWanted() || !checksClient.available()) return undefined;
    c = checksClient.check(rgb);
    c.catch(() => undefined); // analyze() reports a failure; nothing may go unhandled before it asks
    checks.set(id, c);
    while (checks.size > KEEP_CHECKS) checks.delete(checks.keys().next().value as string);
  }
  return c;
}

// ---------------------------------------------------------------- analysis

const signals = new Map<string, { aborted: boolean }>();

function transferables(r: AnalyzeResponse): Transferable[] {
  const set = new Set<ArrayBufferLike>();
  const m = r.result.maps;
  if (m) {
    for (const x of m.gradCam) set.add(x.data.buffer);
    for (const x of m.guidedGradCam ?? []) set.add(x.data.buffer);
    if (m.combined) set.add(m.combined.buffer);
  }
  if (r.preprocessed) set.add(r.preprocessed.rgba.buffer);
  return [...set].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer && b.byteLength > 0);
}

/** The model input (row-major [S, S, 3], 0..1) as an RGBA picture for the "preprocessed" view. */
function preprocessedView(input: Float32Array, size: number): { size: number; rgba: Uint8ClampedArray } {
  const rgba = new Uint8ClampedArray(size * size * 4);
  for (let i = 0; i < size * size; i++) {
    rgba[i * 4] = input[i * 3] * 255;
    rgba[i * 4 + 1] = input[i * 3 + 1] * 255;
    rgba[i * 4 + 2] = input[i * 3 + 2] * 255;
    rgba[i * 4 + 3] = 255;
  }
  return { size, rgba };
}

/**
 * Model inputs of the latest analyses, kept so the Guided Grad-CAM view (explainDetails) does
 * not preprocess again: 3 MB each at 512², the latest few only.
 */
const inputs = new Map<string, { input: Float32Array; model: string }>();
const KEEP_INPUTS = 4;
function keepInput(id: string, input: Float32Array, modelName: string): void {
  inputs.delete(id);
  inputs.set(id, { input, model: modelName });
  while (inputs.size > KEEP_INPUTS) inputs.delete(inputs.keys().next().value as string);
}

/** Runs `run`; when the backend breaks at run time (lost GPU context, missing kernel…), the next one, once. */
async function withFallback<T>(run: () => Promise<T>, notices: Notice[]): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (isFundusLensError(e) && e.code !== 'backend-failed') throw e;
    if (!fallbacks.length) throw e;
    const from = backend;
    const skipped: ModelInfo['skipped'] = [];
    await loadOn(fallbacks, skipped, warmCam);
    notices.push({
      code: 'backend-fallback',
      message: `${from} failed during the analysis (${e instanceof Error ? e.message : String(e)}); switched to ${backend}.`,
      values: { from: String(from), to: String(backend) },
    });
    return run();
  }
}

async function pixelsOf(id: string, file: Blob): Promise<Decoded> {
  let d = decoded.get(id);
  if (!d) {
    const fresh = await decodeFile(file);
    fresh.bitmap.close();
    d = { rgb: fresh.rgb };
    remember(id, d);
    checks.delete(id);
  }
  return d;
}

const api: AnalysisWorkerApi = {
  init: (o, onProgress) => guard(() => init(o, onProgress)),

  decode: (id, file) =>
    guard(async () => {
      cancelWarmup();
      const t0 = performance.now();
      const d = await decodeFile(file);
      remember(id, { rgb: d.rgb });
      checks.delete(id); // new pixels for this id: new checks
      checksFor(id, d.rgb);
      const out: DecodedPhoto = {
        bitmap: d.bitmap,
        width: d.rgb.width,
        height: d.rgb.height,
        originalWidth: d.originalWidth,
        originalHeight: d.originalHeight,
        decodeMs: performance.now() - t0,
      };
      return Comlink.transfer(out, [d.bitmap]);
    }),

  analyze: (id, file, o, onProgress) =>
    modelJob(id, async (signal) => {
      const d = await pixelsOf(id, file);
      const notices: Notice[] = [];
      let input: { data: Float32Array; size: number } | null = null;
      const result = await withFallback(
        () =>
          analyze(d.rgb, model!, {
            force: o.force,
            photoChecks: checksFor(id, d.rgb),
            maps: o.maps ?? 'all',
            cam: o.cam ?? 'gradcam',
            signal,
            onInput: (data, size) => {
              input = { data, size };
            },
            onProgress: (stage: StageName, fraction: number) => void onProgress?.(stage, fraction),
          }),
        notices,
      );
      result.backend = backend ?? result.backend;
      const kept = input as { data: Float32Array; size: number } | null;
      if (kept) keepInput(id, kept.data, result.model);
      else inputs.delete(id);
      const resp: AnalyzeResponse = {
        result,
        // the input analyze() just made: no second preprocessing pass for the view
        preprocessed: o.preprocessed && kept ? preprocessedView(kept.data, kept.size) : null,
        notices,
      };
      return Comlink.transfer(resp, transferables(resp));
    }),

  details: (id, file, result, onProgress) =>
    modelJob(id, async (signal) => {
      const notices: Notice[] = [];
      const kept = inputs.get(id);
      const input = kept && kept.model === result.model ? kept.input : undefined;
      const image = input ? null : (await pixelsOf(id, file)).rgb;
      const maps = await withFallback(
        () => explainDetails(image, model!, result, { input, signal, onProgress: (stage: StageName, fraction: number) => void onProgress?.(stage, fraction) }),
        notices,
      );
      const resp: DetailsResponse = { ...maps, notices };
      const buffers = [...maps.guidedGradCam.map((m) => m.data.buffer), maps.combined.buffer].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer && b.byteLength > 0);
      return Comlink.transfer(resp, [...new Set(buffers)]);
    }),

  cancel(id) {
    const s = signals.get(id);
    if (s) s.aborted = true;
  },

  forget(id) {
    decoded.delete(id);
    inputs.delete(id);
    checks.delete(id);
  },
};

// keep tf referenced so the bundler never drops the engine import order
void tf.version_core;
Comlink.expose(api);
