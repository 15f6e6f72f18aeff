/**
 * The photo stages' hottest loops (area resampling of the full-size photo, the gradability
 * gate's Gaussian blurs, preprocessing's CIELAB round trip and CLAHE blend) as a 4.5 KB WebAssembly SIMD module
 * (photo-kernels.wat). V8 runs these typed-array loops at ~1.7 ns per multiply-add; the module
 * does the same arithmetic 3–10× faster (bench/README.md), and on a GPU backend these stages
 * are most of an analysis.
 *
 * Results are the JS twins' to the bit (simd.test.ts): the resampler and the blurs give the
 * same f64 sum of the same products in the same order, rounded to f32 once; the colour kernels
 * do one f32 operation wherever their twins (preprocess/colour.ts) do one. So the gradability thresholds,
 * calibrated on the JS path, the model input and the helper worker's sameFov() check do not
 * depend on which path ran. Where WebAssembly or its SIMD is missing (or the page's CSP
 * forbids compiling it), {@link photoKernels} returns null and the callers run their JS loops;
 * they do the same when a kernel call fails ({@link withPhotoKernels}).
 *
 * The module owns one linear memory per realm (worker, Node process). It grows to the largest
 * call's working set (a few MB at 512²: the resampler streams the photo in bands of rows, so a
 * 100 MP photo is never copied whole) and is kept for the next call.
 */
import { instantiateWasm } from '../wasm-module';
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
 * What the module computes. Each function writes its result into `out` (every element of it); the resampler, blur, blend and colour round trip return it;
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
  /**
   * preprocess/clahe.ts's blend of the tiles' tables: for each pixel of the W×H 8-bit `src`, the bilinear mix of
   * its value looked up in the four nearest tiles' tables, rounded half to even, into `out` (W·H). Per column:
   * `cols.ind1/ind2` the left/right tile's table offset, `cols.xa/xa1` the right/left weight; per row y:
   * `rowAt[2y], rowAt[2y + 1]` the upper/lower tile row's table offset, `rowW[2y], rowW[2y + 1]` the lower/upper
   * weight (ya, ya1). The same bytes as that loop.
   */
  claheBlend(src: Uint8Array, W: number, H: number, luts: Uint8Array, cols: ClaheColumns, rowAt: Int32Array, rowW: Float32Array, out: Uint8Array): Uint8Array;
  /**
   * preprocess/colour.ts lightnessX32 and lightness8's rounding: for n pixels of interleaved RGB (0..255) the linear
   * RGB into `linear` (n·3) and the 8-bit L* into `out` (n), except for the pixels whose L*·2.55 lies within `guard`
   * (an f32) of a rounding boundary: their indices are returned (in increasing order) and their `out` entries are
   * left for the caller to compute exactly. The same bits as those functions.
   */
  labLightness(rgb: Float32Array, n: number, tables: ColourTableSet, out: Uint8Array, linear: Float32Array, guard: number): Int32Array;
  /**
   * preprocess/colour.ts replaceLightness32: linear RGB with L* replaced by `l8`, back to sRGB times `mask`
   * (1 where absent), into `out` (n·3). The same bits as that function.
   */
  labReplace(linear: Float32Array, l8: Uint8Array, mask: Float32Array | undefined, n: number, tables: ColourTableSet, out: Float32Array): Float32Array;
}

/** CLAHE's per-column blend terms (preprocess/clahe.ts), W entries each. */
export interface ClaheColumns {
  ind1: Int32Array;
  ind2: Int32Array;
  xa: Float32Array;
  xa1: Float32Array;
}

/** The colour step's f32 tables (preprocess/colour.ts colourTables: TABLE_N + 1 = 16385 entries each). */
export interface ColourTableSet {
  toLinear: Float32Array;
  cbrt: Float32Array;
  toSrgb: Float32Array;
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
  resample_h2(src: number, rows: number, W: number, C: number, outW: number, start: number, count: number, w: number, mc: number, dst: number): void;
  accumulate(out: number, row: number, n: number, w: number): void;
  clahe_blend(src: number, dst: number, W: number, H: number, luts: number, ind1: number, ind2: number, xa: number, xa1: number, rows: number): void;
  lab_lightness(rgb: number, out8: number, lin: number, groups: number, tl: number, tc: number, flags: number, guard: number): number;
  lab_replace(lin: number, l8: number, mask: number, out: number, groups: number, tc: number, ts: number): void;
}
/** Source rows per band are capped so a band of the photo takes at most this many bytes. */
const BAND_BYTES = 4 << 20;
const PAGE = 65536;

let enabled = true;
let cached: PhotoKernels | null | undefined;

/**
 * The module's functions, or null where it cannot run here (then use the JS loops). Compiled
 * once per realm on first use (synchronously: 4.5 KB, well under the size browsers allow).
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
  // null e.g. under a CSP without 'wasm-unsafe-eval': the JS loops give the same numbers
  const ex = instantiateWasm<Exports>(PHOTO_KERNELS_WASM);
  return ex ? bind(ex) : null;
}

function bind(ex: Exports): PhotoKernels {
  const align = (n: number) => (n + 15) & ~15;
  /** makes the memory at least `bytes` long; views must be taken after this */
  const reserve = (bytes: number): ArrayBuffer => {
    const have = ex.memory.buffer.byteLength;
    if (bytes > have) ex.memory.grow(Math.ceil((bytes - have) / PAGE));
    return ex.memory.buffer;
  };

  /**
   * The colour kernels' memory: tables `a` and `b` (the same length) at aP and bP, then n pixels of interleaved f32
   * RGB at pxP, zero-padded to whole groups of four, then `tail(groups)` bytes from `next` on.
   */
  const colourLayout = (a: Float32Array, b: Float32Array, px: Float32Array, n: number, tail: (groups: number) => number) => {
    const groups = Math.ceil(n / 4);
    const T = align(a.length * 4);
    const aP = 0, bP = T, pxP = 2 * T, next = pxP + groups * 48;
    const buf = reserve(next + tail(groups));
    new Float32Array(buf, aP, a.length).set(a);
    new Float32Array(buf, bP, b.length).set(b);
    new Float32Array(buf, pxP, groups * 12).fill(0, n * 3).set(px.subarray(0, n * 3));
    return { groups, buf, aP, bP, pxP, next };
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
      const outP = wP + align(wx.w.length * 8);
      const rowsP = outP + align(outH * outRowBytes);
      const bandP = rowsP + align(bandRows * outRowBytes);
      let buf = reserve(bandP + bandRows * rowBytes + 16); // resample_h2 reads a byte past the band's last pixel
      new Int32Array(buf, startP, outW).set(wx.start);
      new Int32Array(buf, countP, outW).set(wx.count);
      new Float64Array(buf, wP, wx.w.length).set(wx.w); // the f32 weights as f64: no conversion in the inner loops
      new Float32Array(buf, outP, outW * outH * 3).fill(0); // a grown or reused memory: start from 0 as the JS loop does
      for (let y0 = yMin; y0 <= yMax; y0 += bandRows) {
        const rows = Math.min(bandRows, yMax + 1 - y0);
        buf = ex.memory.buffer;
        new Uint8Array(buf, bandP, rows * rowBytes).set(data.subarray(y0 * rowBytes, (y0 + rows) * rowBytes));
        // rows in pairs; an odd band's last row alone
        ex.resample_h2(bandP, rows, W, C, outW, startP, countP, wP, wx.maxCount, rowsP);
        if (rows % 2 === 1) ex.resample_h(bandP + (rows - 1) * rowBytes, 1, W, C, outW, startP, countP, wP, wx.maxCount, rowsP + (rows - 1) * outRowBytes);
        for (let j = 0; j < rows; j++) {
          const u = users[y0 + j];
          if (!u) continue;
          for (let i = 0; i < u.length; i += 2) ex.accumulate(outP + u[i] * outRowBytes, rowsP + j * outRowBytes, outW * 3, u[i + 1]);
        }
      }
      out.set(new Float32Array(ex.memory.buffer, outP, outW * outH * 3));
      return out;
    },

    claheBlend(src, W, H, luts, cols, rowAt, rowW, out) {
      const n = W * H;
      const W4 = align(W * 4);
      const srcP = 0, dstP = align(n), lutP = dstP + align(n), ind1P = lutP + align(luts.length), ind2P = ind1P + W4;
      const xaP = ind2P + W4, xa1P = xaP + W4, rowsP = xa1P + W4;
      const buf = reserve(rowsP + H * 16);
      new Uint8Array(buf, srcP, n).set(src.subarray(0, n));
      new Uint8Array(buf, lutP, luts.length).set(luts);
      new Int32Array(buf, ind1P, W).set(cols.ind1);
      new Int32Array(buf, ind2P, W).set(cols.ind2);
      new Float32Array(buf, xaP, W).set(cols.xa);
      new Float32Array(buf, xa1P, W).set(cols.xa1);
      // per row 16 bytes: the two i32 offsets, then the two f32 weights
      const ri = new Int32Array(buf, rowsP, H * 4), rf = new Float32Array(buf, rowsP, H * 4);
      for (let y = 0; y < H; y++) {
        ri[y * 4] = rowAt[y * 2];
        ri[y * 4 + 1] = rowAt[y * 2 + 1];
        rf[y * 4 + 2] = rowW[y * 2];
        rf[y * 4 + 3] = rowW[y * 2 + 1];
      }
      ex.clahe_blend(srcP, dstP, W, H, lutP, ind1P, ind2P, xaP, xa1P, rowsP);
      out.set(new Uint8Array(buf, dstP, n));
      return out;
    },

    // Four pixels a step: the buffers are padded to whole groups (the padding's results are dropped).
    labLightness(rgb, n, tables, out, linear, guard) {
      const { groups, buf, aP, bP, pxP, next } = colourLayout(tables.toLinear, tables.cbrt, rgb, n, (g) => g * (48 + 4 + 16));
      const linP = next, out8P = linP + groups * 48, flagsP = out8P + groups * 4;
      const flagged = ex.lab_lightness(pxP, out8P, linP, groups, aP, bP, flagsP, guard);
      out.set(new Uint8Array(buf, out8P, n));
      linear.set(new Float32Array(buf, linP, n * 3));
      // the padding's pixels are black (x = 0, never near a boundary), so every index is < n
      return new Int32Array(buf, flagsP, flagged).slice();
    },

    labReplace(linear, l8, mask, n, tables, out) {
      const { groups, buf, aP, bP, pxP, next } = colourLayout(tables.cbrt, tables.toSrgb, linear, n, (g) => g * (4 + 16 + 48));
      const l8P = next, maskP = l8P + groups * 4, outP = maskP + groups * 16;
      new Uint8Array(buf, l8P, groups * 4).fill(0, n).set(l8.subarray(0, n));
      const m = new Float32Array(buf, maskP, groups * 4).fill(0, n);
      if (mask) m.set(mask.subarray(0, n));
      else m.fill(1, 0, n);
      ex.lab_replace(pxP, l8P, maskP, outP, groups, aP, bP);
      out.set(new Float32Array(buf, outP, n * 3));
      return out;
    },
  };
}
