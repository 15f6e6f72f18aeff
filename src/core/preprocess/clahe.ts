/**
 * Contrast Limited Adaptive Histogram Equalization (paper II.B, ref. [15]) on one 8-bit
 * channel, following OpenCV's `createCLAHE(clipLimit, (tileGrid, tileGrid)).apply()`
 * step for step (tile padding by reflection, integer clip limit, residual redistribution,
 * float32 bilinear LUT interpolation, round-half-even) so a model trained with either
 * implementation sees the same input. Tests compare against OpenCV.js.
 *
 * Plain TypeScript rather than tfjs ops: the per-tile histogram, clipping and cumulative
 * sum are scatter/scan operations tfjs has no efficient kernels for; at 512² this runs in
 * a few milliseconds and is bit-for-bit deterministic on every backend.
 */
import { withPhotoKernels } from '../simd/index';

/** Round half to even, like OpenCV's cvRound/saturate_cast under the default FP mode. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Reflect-101 index (…2 1 | 0 1 2 … n-1 | n-2 …), valid for any offset. */
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

/**
 * Applies CLAHE to a single-channel 8-bit image.
 * @param channel row-major width×height values
 * @param tileGrid tiles across and down (OpenCV's tileGridSize, square)
 * @param clipLimit OpenCV clip limit (multiple of the mean bin height; 0 disables clipping)
 * @param into optional width×height array for the result (every element written)
 * @returns the equalised values (`into` when given, else a new array)
 */
export function clahe(channel: Uint8Array, width: number, height: number, tileGrid: number, clipLimit: number, into?: Uint8Array): Uint8Array {
  if (channel.length !== width * height) throw new RangeError(`clahe: ${channel.length} values for ${width}×${height}`);
  if (!Number.isInteger(tileGrid) || tileGrid < 1) throw new RangeError(`clahe: tileGrid must be a positive integer, got ${tileGrid}`);
  const tiles = tileGrid;
  const f = Math.fround;
  const histSize = 256;
  // OpenCV pads right/bottom by reflection unless both sides divide evenly; note that it
  // then pads a whole extra tile on a side that already divided evenly.
  const even = width % tiles === 0 && height % tiles === 0;
  const extW = even ? width : width + tiles - (width % tiles);
  const extH = even ? height : height + tiles - (height % tiles);
  const tileW = Math.floor(extW / tiles);
  const tileH = Math.floor(extH / tiles);
  const tileTotal = tileW * tileH;
  const lutScale = f((histSize - 1) / tileTotal);
  let limit = 0;
  if (clipLimit > 0) limit = Math.max(1, Math.trunc((clipLimit * tileTotal) / histSize));

  const luts = new Uint8Array(tiles * tiles * histSize);
  const hist = new Int32Array(histSize);
  for (let ty = 0; ty < tiles; ty++) {
    for (let tx = 0; tx < tiles; tx++) {
      hist.fill(0);
      for (let y = ty * tileH; y < (ty + 1) * tileH; y++) {
        const sy = y < height ? y : reflect101(y, height);
        const row = sy * width;
        for (let x = tx * tileW; x < (tx + 1) * tileW; x++) {
          const sx = x < width ? x : reflect101(x, width);
          hist[channel[row + sx]]++;
        }
      }
      if (limit > 0) {
        let clipped = 0;
        for (let i = 0; i < histSize; i++) {
          if (hist[i] > limit) { clipped += hist[i] - limit; hist[i] = limit; }
        }
        const batch = Math.floor(clipped / histSize);
        let residual = clipped - batch * histSize;
        for (let i = 0; i < histSize; i++) hist[i] += batch;
        if (residual !== 0) {
          const step = Math.max(Math.floor(histSize / residual), 1);
          for (let i = 0; i < histSize && residual > 0; i += step, residual--) hist[i]++;
        }
      }
      const lut = (ty * tiles + tx) * histSize;
      let sum = 0;
      for (let i = 0; i < histSize; i++) {
        sum += hist[i];
        luts[lut + i] = Math.min(255, Math.max(0, roundHalfEven(f(f(sum) * lutScale))));
      }
    }
  }

  // Bilinear blend of the four nearest tiles' LUTs, in float32 as OpenCV does.
  const out = into ?? new Uint8Array(width * height);
  const invTw = f(1 / tileW);
  const invTh = f(1 / tileH);
  const ind1 = new Int32Array(width), ind2 = new Int32Array(width);
  const xa = new Float32Array(width), xa1 = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const txf = f(f(x * invTw) - 0.5);
    let t1 = Math.floor(txf);
    let t2 = t1 + 1;
    xa[x] = f(txf - t1);
    xa1[x] = f(1 - xa[x]);
    t1 = Math.max(t1, 0);
    t2 = Math.min(t2, tiles - 1);
    ind1[x] = t1 * histSize;
    ind2[x] = t2 * histSize;
  }
  // per row: the upper and lower tile rows' table offsets, and their weights
  const rowAt = new Int32Array(height * 2), rowW = new Float32Array(height * 2);
  for (let y = 0; y < height; y++) {
    const tyf = f(f(y * invTh) - 0.5);
    let t1 = Math.floor(tyf);
    let t2 = t1 + 1;
    const ya = f(tyf - t1);
    t1 = Math.max(t1, 0);
    t2 = Math.min(t2, tiles - 1);
    rowAt[y * 2] = t1 * tiles * histSize;
    rowAt[y * 2 + 1] = t2 * tiles * histSize;
    rowW[y * 2] = ya;
    rowW[y * 2 + 1] = f(1 - ya);
  }
  // the blend in WebAssembly SIMD where it runs (simd/index.ts: the same bytes, ~3× faster); this loop is its twin
  if (withPhotoKernels((k) => k.claheBlend(channel, width, height, luts, { ind1, ind2, xa, xa1 }, rowAt, rowW, out))) return out;
  for (let y = 0; y < height; y++) {
    const p1 = rowAt[y * 2], p2 = rowAt[y * 2 + 1], ya = rowW[y * 2], ya1 = rowW[y * 2 + 1];
    for (let x = 0; x < width; x++) {
      const v = channel[y * width + x];
      const a = f(f(luts[p1 + ind1[x] + v] * xa1[x]) + f(luts[p1 + ind2[x] + v] * xa[x]));
      const b = f(f(luts[p2 + ind1[x] + v] * xa1[x]) + f(luts[p2 + ind2[x] + v] * xa[x]));
      const res = f(f(a * ya1) + f(b * ya));
      out[y * width + x] = Math.min(255, Math.max(0, roundHalfEven(res)));
    }
  }
  return out;
}
