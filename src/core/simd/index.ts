/**
 * The photo stages' hottest loops (area resampling of the full-size photo, the gradability
 * gate's Gaussian blurs) as a 1.5 KB WebAssembly SIMD module (photo-kernels.wat). V8 runs
 * these typed-array loops at ~1.7 ns per multiply-add; the module does the same arithmetic
 * 3–10× faster (bench/README.md), and on a GPU backend these stages are most of an analysis.
 *
 * Results are the JS twins' to the bit (simd.test.ts): every output is the same f64 sum of
 * the same products in the same order, rounded to f32 once. So the gradability thresholds,
 * calibrated on the JS path, the model input and the helper worker's sameFov() check do not
 * depend on which path ran. Where WebAssembly or its SIMD is missing (or the page's CSP
 * forbids compiling it), {@link photoKernels} returns null and the callers run their JS loops;
 * they do the same when a kernel call fails ({@link withPhotoKernels}).
 *
 * The module owns one linear memory per realm (worker, Node process). It grows to the largest
 * call's working set (a few MB at 512²: the resampler streams the photo in bands of rows, so a
 * 100 MP photo is never copied whole) and is kept for the next call.
 */
import { PHOTO_KERNELS_WASM } from './photo-kernels.wasm';

/** Sparse 1-D resampling weights (resample.ts): output i reads source [start[i], start[i] + count[i]). */
export interface AreaWeights {
  start: Int32Array;
  count: Int32Array;
  /** `maxCount` slots per output sample */
  w: Float32Array;
  maxCount: number;
}

/**
 * The vertical weights inverted (resample.ts rowUsers): for source row y, `byRow[y]` lists the output rows it feeds
 * and how much, as pairs v, w in increasing v; rows yMin..yMax are used (yMax < yMin: none).
 */
export interface RowUsers {
  byRow: number[][];
  yMin: number;
  yMax: number;
}

/**
 * What the module computes. Both functions write their result into `out` (every element of it) and return it;
 * `out` must not overlap the input.
 */
export interface PhotoKernels {
  /**
   * Separable filter with clamped borders: `k` (odd length 2r + 1) along x, rounded to f32, then along y, into
   * `out` (W·H). The same bits as quality/blur.ts's JS loops.
   */
  separable(src: Float32Array, W: number, H: number, k: Float32Array, out: Float32Array): Float32Array;
  /**
   * Area resampling of 8-bit pixels (3 or 4 channels, channels 0..2 used) onto outW×outH
   * interleaved RGB float32 in `out` (outW·outH·3), with the weights preprocess/resample.ts computes. The same bits
   * as its JS loop.
   */
  resample(data: Uint8Array | Uint8ClampedArray, W: number, C: number, outW: number, outH: number, wx: AreaWeights, rows: RowUsers, out: Float32Array): Float32Array;
}

// Only what is used of the WebAssembly API: core's lib is plain ES2022 (no DOM, no Node types).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface Exports {
  memory: WasmMemory;
  blur_h(src: number, dst: number, W: number, H: number, k: number, r: number): void;
  blur_v(src: number, dst: number, W: number, H: number, k: number, r: number): void;
  resample_h(src: number, rows: number, W: number, C: number, outW: number, start: number, count: number, w: number, mc: number, dst: number): void;
  accumulate(out: number, row: number, n: number, w: number): void;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

/** Source rows per band are capped so a band of the photo takes at most this many bytes. */
const BAND_BYTES = 4 << 20;
const PAGE = 65536;

let enabled = true;
let cached: PhotoKernels | null | undefined;

/**
 * The module's functions, or null where it cannot run here (then use the JS loops). Compiled
 * once per realm on first use (synchronously: 1.5 KB, well under the size browsers allow).
 */
export function photoKernels(): PhotoKernels | null {
  if (!enabled) return null;
  if (cached === undefined) cached = instantiate();
  return cached;
}

/**
 * `f` run with the kernels, or undefined where they are off or missing here, or when the call fails (e.g. the
 * module's memory cannot grow on a device short of memory): the caller then runs its JS loops, which give the
 * same bits, so a failure costs time, never a result.
 */
export function withPhotoKernels<T>(f: (kernels: PhotoKernels) => T): T | undefined {
  const kernels = photoKernels();
  if (!kernels) return undefined;
  try {
    return f(kernels);
  } catch {
    return undefined;
  }
}

/**
 * Replaces the module's functions for this realm (tests: a failing kernel); undefined restores the real ones.
 * @internal
 */
export function overridePhotoKernels(k: PhotoKernels | null | undefined): void {
  cached = k === undefined ? undefined : k;
}

/**
 * Turns the module off (false) or back on, for this realm. The results do not change (same
 * bits); tests and the bench use it to run and time the JS path.
 */
export function setPhotoKernelsEnabled(on: boolean): void {
  enabled = on;
}

function instantiate(): PhotoKernels | null {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  try {
    if (!api || !api.validate(PHOTO_KERNELS_WASM)) return null;
    const ex = new api.Instance(new api.Module(PHOTO_KERNELS_WASM), {}).exports as Exports;
    return bind(ex);
  } catch {
    return null; // e.g. a CSP without 'wasm-unsafe-eval': the JS loops give the same numbers
  }
}

function bind(ex: Exports): PhotoKernels {
  const align = (n: number) => (n + 15) & ~15;
  /** makes the memory at least `bytes` long; views must be taken after this */
  const reserve = (bytes: number): ArrayBuffer => {
    const have = ex.memory.buffer.byteLength;
    if (bytes > have) ex.memory.grow(Math.ceil((bytes - have) / PAGE));
    return ex.memory.buffer;
  };

  return {
    separable(src, W, H, k, out) {
      const n = W * H;
      const r = (k.length - 1) / 2;
      const kp = 0;
      const sp = align(k.length * 4);
      const tp = sp + align(n * 4);
      const dp = tp + align(n * 4);
      const buf = reserve(dp + n * 4);
      new Float32Array(buf, kp, k.length).set(k);
      new Float32Array(buf, sp, n).set(src.subarray(0, n));
      ex.blur_h(sp, tp, W, H, kp, r);
      ex.blur_v(tp, dp, W, H, kp, r);
      out.set(new Float32Array(buf, dp, n));
      return out;
    },

    resample(data, W, C, outW, outH, wx, { byRow: users, yMin, yMax }, out) {
      const rowBytes = W * C;
      const outRowBytes = outW * 12;
      const bandRows = Math.max(1, Math.min(yMax - yMin + 1, Math.floor(BAND_BYTES / rowBytes)));
      const startP = 0;
      const countP = startP + align(outW * 4);
      const wP = countP + align(outW * 4);
      const outP = wP + align(wx.w.length * 4);
      const rowsP = outP + align(outH * outRowBytes);
      const bandP = rowsP + align(bandRows * outRowBytes);
      let buf = reserve(bandP + bandRows * rowBytes);
      new Int32Array(buf, startP, outW).set(wx.start);
      new Int32Array(buf, countP, outW).set(wx.count);
      new Float32Array(buf, wP, wx.w.length).set(wx.w);
      new Float32Array(buf, outP, outW * outH * 3).fill(0); // a grown or reused memory: start from 0 as the JS loop does
      for (let y0 = yMin; y0 <= yMax; y0 += bandRows) {
        const rows = Math.min(bandRows, yMax + 1 - y0);
        buf = ex.memory.buffer;
        new Uint8Array(buf, bandP, rows * rowBytes).set(data.subarray(y0 * rowBytes, (y0 + rows) * rowBytes));
        ex.resample_h(bandP, rows, W, C, outW, startP, countP, wP, wx.maxCount, rowsP);
        for (let j = 0; j < rows; j++) {
          const u = users[y0 + j];
          if (!u) continue;
          for (let i = 0; i < u.length; i += 2) ex.accumulate(outP + u[i] * outRowBytes, rowsP + j * outRowBytes, outW * 3, u[i + 1]);
        }
      }
      out.set(new Float32Array(ex.memory.buffer, outP, outW * outH * 3));
      return out;
    },
  };
}
