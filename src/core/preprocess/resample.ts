/**
 * Area-averaging resampler from an 8-bit photo to a small float RGB grid. Plain TypeScript
 * on purpose: it streams the photo row by row, so a 12000×9000 input never becomes a
 * full-size float copy (or a 400 MB int32 tensor upload), and it averages every covered
 * source pixel, so 2–3 px lesions at 512² are not aliased away as with bilinear sampling.
 */
import { withPhotoKernels, type AreaWeights, type RowUsers } from '../simd/index';
import type { RgbImage } from '../types';

/** Sparse 1-D resampling weights: output i reads source [start[i], start[i]+count[i]). */
type Weights = AreaWeights;

/**
 * Output sample i covers source interval [offset + i*scale, offset + (i+1)*scale)
 * (continuous coordinates, source pixel j covers [j, j+1)). Downscaling averages that
 * interval (box/area filter); upscaling interpolates linearly between pixel centres.
 * Source positions outside [0, n) are black, hence weights are not renormalised.
 */
function weights(outN: number, srcN: number, scale: number, offset: number): Weights {
  const maxCount = scale >= 1 ? Math.ceil(scale) + 2 : 2;
  const start = new Int32Array(outN);
  const count = new Int32Array(outN);
  const w = new Float32Array(outN * maxCount);
  for (let i = 0; i < outN; i++) {
    if (scale >= 1) {
      const a = offset + i * scale;
      const b = a + scale;
      const j0 = Math.max(0, Math.floor(a));
      const j1 = Math.min(srcN, Math.ceil(b));
      start[i] = j0;
      let k = 0;
      for (let j = j0; j < j1; j++) {
        const ov = Math.min(b, j + 1) - Math.max(a, j);
        if (ov > 0) w[i * maxCount + k] = ov / scale;
        k++;
      }
      count[i] = Math.max(0, j1 - j0);
    } else {
      const c = offset + (i + 0.5) * scale - 0.5;
      const j0 = Math.floor(c);
      const t = c - j0;
      let s = j0;
      let k = 0;
      // Clip the two taps to the source; out-of-range taps read black.
      if (j0 >= 0 && j0 < srcN) { w[i * maxCount + k++] = 1 - t; } else s = j0 + 1;
      if (j0 + 1 >= 0 && j0 + 1 < srcN) w[i * maxCount + k++] = t;
      start[i] = Math.max(0, Math.min(srcN, s));
      count[i] = k;
    }
  }
  return { start, count, w, maxCount };
}

/** The vertical weights inverted: for each source row, which output rows use it, and how much (in increasing v). */
function rowUsers(wy: Weights, outH: number, H: number): RowUsers {
  const byRow: number[][] = [];
  let yMin = H;
  let yMax = -1;
  for (let v = 0; v < outH; v++) {
    for (let k = 0; k < wy.count[v]; k++) {
      const w = wy.w[v * wy.maxCount + k];
      if (w === 0) continue;
      const y = wy.start[v] + k;
      (byRow[y] ??= []).push(v, w);
      if (y < yMin) yMin = y;
      if (y > yMax) yMax = y;
    }
  }
  return { byRow, yMin, yMax };
}

/**
 * Resamples `img` onto an outW×outH grid where output pixel (u, v) covers photo
 * [offsetX + u*scale, offsetX + (u+1)*scale) × [offsetY + v*scale, ...).
 * Returns interleaved RGB float32 in 0..255 (alpha dropped); outside the photo is 0. Written into `out`
 * (outW·outH·3, every element) when given, else into a new array.
 */
export function resampleArea(
  img: RgbImage,
  outW: number,
  outH: number,
  scale: number,
  offsetX: number,
  offsetY: number,
  out?: Float32Array,
): Float32Array {
  const { width: W, height: H, channels: C, data } = img;
  const wx = weights(outW, W, scale, offsetX);
  const wy = weights(outH, H, scale, offsetY);
  const users = rowUsers(wy, outH, H);
  // the same sums in WebAssembly SIMD, 2–3× faster (simd/index.ts); this loop is its reference and fallback
  const dst = out ?? new Float32Array(outW * outH * 3);
  const fast = withPhotoKernels((kernels) => kernels.resample(data, W, C, outW, outH, wx, users, dst));
  if (fast) return fast;
  if (out) dst.fill(0); // the rows below accumulate; a new array is zero already
  const row = new Float32Array(outW * 3);
  const { byRow, yMin, yMax } = users;
  for (let y = yMin; y <= yMax; y++) {
    const feeds = byRow[y];
    if (!feeds) continue;
    const base = y * W * C;
    for (let u = 0; u < outW; u++) {
      let r = 0, g = 0, b = 0;
      const s = wx.start[u];
      const n = wx.count[u];
      const wo = u * wx.maxCount;
      for (let k = 0; k < n; k++) {
        const w = wx.w[wo + k];
        const p = base + (s + k) * C;
        r += w * data[p];
        g += w * data[p + 1];
        b += w * data[p + 2];
      }
      row[u * 3] = r;
      row[u * 3 + 1] = g;
      row[u * 3 + 2] = b;
    }
    for (let j = 0; j < feeds.length; j += 2) {
      const o = feeds[j] * outW * 3;
      const w = feeds[j + 1];
      for (let i = 0; i < outW * 3; i++) dst[o + i] += w * row[i];
    }
  }
  return dst;
}
