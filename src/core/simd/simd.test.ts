import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { assemble, WAT_PATH } from '../../../scripts/build-wasm';
import { clahe, DEFAULT_PREPROCESS, detectFov, preprocessPixels, resampleArea } from '../preprocess';
import { colourTables, lightness8, lightnessX32, replaceLightnessArray } from '../preprocess/colour';
import { rng, syntheticFundus } from '../preprocess/synthetic-photos';
import { gaussianBlur } from '../quality/blur';
import { measureQuality } from '../quality/measures';
import type { RgbImage } from '../types';
import { analyze } from '../analyze';
import { syntheticFundus as tinyPhoto, tinyModelOnCpu } from '../analyze.test-fixtures';
import { overridePhotoKernels, photoKernels, setPhotoKernelsEnabled } from './index';
import { PHOTO_KERNELS_WASM } from './photo-kernels.wasm';

/** Runs `f` on the JS loops and on the WebAssembly kernels. */
function bothPaths<T>(f: () => T): { js: T; wasm: T } {
  setPhotoKernelsEnabled(false);
  const js = f();
  setPhotoKernelsEnabled(true);
  return { js, wasm: f() };
}

/** Index of the first element that differs (bit for bit), or -1. (A toEqual diff of 200k elements takes minutes.) */
function firstDifference(a: Float32Array | Uint8Array, b: Float32Array | Uint8Array): number {
  expect(b.length).toBe(a.length);
  const ua = a instanceof Uint8Array ? a : new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = b instanceof Uint8Array ? b : new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

function randomImage(W: number, H: number, C: 3 | 4, seed: number, clamped = false): RgbImage {
  const rand = rng(seed);
  const data = clamped ? new Uint8ClampedArray(W * H * C) : new Uint8Array(W * H * C);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(rand() * 256);
  return { width: W, height: H, channels: C, data };
}

afterEach(() => {
  setPhotoKernelsEnabled(true);
  overridePhotoKernels(undefined);
});

describe('photo kernels (WebAssembly SIMD)', () => {
  it('the committed module is the assembled photo-kernels.wat (run `npm run build:wasm` after editing it)', async () => {
    const bytes = await assemble(readFileSync(WAT_PATH, 'utf8'));
    expect(Array.from(PHOTO_KERNELS_WASM)).toEqual(Array.from(bytes));
  });

  it('runs here (Node 20 has WebAssembly SIMD), so the comparisons below compare two paths', () => {
    expect(photoKernels()).not.toBeNull();
    setPhotoKernelsEnabled(false);
    expect(photoKernels()).toBeNull();
  });

  it('blurs to the same bits as the JS loops, at every size and border case', () => {
    const rand = rng(7);
    // 1×1 and images narrower than the kernel (all taps clamped), widths around the 8-wide SIMD block
    const sizes: [number, number][] = [[1, 1], [3, 5], [7, 2], [8, 8], [9, 17], [16, 3], [17, 13], [31, 40], [64, 33], [512, 512]];
    for (const [W, H] of sizes) {
      const src = new Float32Array(W * H);
      for (let i = 0; i < src.length; i++) src[i] = Math.fround(rand() * 255 - 20);
      for (const sigma of [0.7, 1, 1.5, 3]) {
        const { js, wasm } = bothPaths(() => gaussianBlur(src, W, H, sigma));
        expect({ W, H, sigma, at: firstDifference(js, wasm) }).toEqual({ W, H, sigma, at: -1 });
      }
    }
  });

  /**
   * Counts a kernel's calls that returned: one that threw is caught and replaced by the JS loop, which gives the
   * same bits, so a comparison alone would pass.
   */
  function countReturns(name: 'resample' | 'claheBlend'): () => number {
    const real = photoKernels()!;
    const f = real[name] as (...a: unknown[]) => unknown;
    let returned = 0;
    overridePhotoKernels({
      ...real,
      [name]: (...a: unknown[]) => {
        const r = f(...a);
        returned++;
        return r;
      },
    });
    return () => returned;
  }

  it('resamples to the same bits as the JS loop: RGB and RGBA, down and up, offsets off the photo', () => {
    const returned = countReturns('resample');
    const cases: { img: RgbImage; outW: number; outH: number; scale: number; ox: number; oy: number }[] = [
      { img: randomImage(300, 200, 3, 1), outW: 64, outH: 48, scale: 300 / 64, ox: 0, oy: 0 },
      { img: randomImage(300, 200, 4, 2, true), outW: 64, outH: 64, scale: 3.3, ox: -17.25, oy: -40.5 },
      { img: randomImage(97, 61, 3, 3), outW: 128, outH: 128, scale: 0.61, ox: -3.1, oy: 2.7 },
      { img: randomImage(97, 61, 4, 4), outW: 50, outH: 31, scale: 1, ox: 0.5, oy: 0.25 },
      { img: randomImage(40, 40, 3, 5), outW: 16, outH: 16, scale: 2, ox: 60, oy: 60 }, // entirely off the photo
      { img: randomImage(1, 1, 3, 6), outW: 5, outH: 3, scale: 0.3, ox: 0, oy: 0 },
    ];
    for (const [n, c] of cases.entries()) {
      const { js, wasm } = bothPaths(() => resampleArea(c.img, c.outW, c.outH, c.scale, c.ox, c.oy));
      expect({ n, at: firstDifference(js, wasm) }).toEqual({ n, at: -1 });
    }
    expect(returned()).toBe(cases.length);
  });

  it('streams a photo wider than one band (4 MB of rows) and reuses its memory for smaller calls', () => {
    // 40000 px × 4 channels = 160 KB a row: 26 rows a band, 4 bands
    const returned = countReturns('resample');
    const wide = randomImage(40000, 100, 4, 8);
    const big = bothPaths(() => resampleArea(wide, 500, 20, 80, 0, -10));
    expect(firstDifference(big.js, big.wasm)).toBe(-1);
    expect(big.wasm.some((v) => v > 0)).toBe(true);
    // RGB, 135 KB a row: 31-row bands, so each band ends on a row of its own (rows go in pairs) and the pairs' reads
    // end one byte past the band's last pixel
    const odd = bothPaths(() => resampleArea(randomImage(45000, 61, 3, 10), 300, 9, 150, 10, -2));
    expect(firstDifference(odd.js, odd.wasm)).toBe(-1);
    expect(odd.wasm.some((v) => v > 0)).toBe(true);
    // after the large call the memory holds its data: a small call must not see any of it
    const small = bothPaths(() => resampleArea(randomImage(20, 20, 3, 9), 10, 10, 3, -5, -5));
    expect(firstDifference(small.js, small.wasm)).toBe(-1);
    expect(returned()).toBe(3);
  });

  it('falls back to the JS loops when a kernel call fails (e.g. its memory cannot grow): same result, no error', () => {
    const img = randomImage(120, 90, 3, 13);
    const src = new Float32Array(64 * 48).map((_, i) => (i * 37) % 255);
    setPhotoKernelsEnabled(false);
    const js = { resampled: resampleArea(img, 40, 30, 3, 0, 0), blurred: gaussianBlur(src, 64, 48, 1.5) };
    setPhotoKernelsEnabled(true);
    let calls = 0;
    const failing = () => {
      calls++;
      throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
    };
    const rgb = Float32Array.from({ length: 300 }, (_, i) => (i * 53) % 256);
    setPhotoKernelsEnabled(false);
    const jsL = lightness8(rgb, 100);
    setPhotoKernelsEnabled(true);
    const grey = Uint8Array.from({ length: 64 * 48 }, (_, i) => (i * 29) % 256);
    setPhotoKernelsEnabled(false);
    const jsC = clahe(grey, 64, 48, 8, 2);
    setPhotoKernelsEnabled(true);
    overridePhotoKernels({ separable: failing, resample: failing, claheBlend: failing, labLightness: failing, labReplace: failing });
    expect(firstDifference(jsC, clahe(grey, 64, 48, 8, 2))).toBe(-1);
    expect(firstDifference(js.resampled, resampleArea(img, 40, 30, 3, 0, 0))).toBe(-1);
    expect(firstDifference(js.blurred, gaussianBlur(src, 64, 48, 1.5))).toBe(-1);
    expect(firstDifference(jsL, lightness8(rgb, 100))).toBe(-1);
    expect(replaceLightnessArray(rgb.map((v) => v / 255), jsL, 100).some((v) => v > 0)).toBe(true);
    expect(calls).toBe(5);
  });

  it("CLAHE's blend: the same bytes as its JS loop, for widths around the 4-pixel step, tile grids and clip limits", () => {
    const rand = rng(31);
    const ran = countReturns('claheBlend');
    const cases: [number, number, number, number][] = [
      [1, 1, 1, 2], [3, 5, 2, 2], [7, 2, 8, 0], [8, 8, 8, 2], [9, 17, 3, 4], [100, 77, 8, 2], [257, 129, 5, 1.5], [512, 512, 8, 2],
    ];
    for (const [W, H, grid, clip] of cases) {
      // smooth structure plus noise, so tiles differ and every blend weight is exercised
      const src = Uint8Array.from({ length: W * H }, (_, i) => {
        const x = i % W, y = Math.floor(i / W);
        return Math.max(0, Math.min(255, Math.round(90 + 70 * Math.sin(x / 11) * Math.cos(y / 7) + rand() * 60 - 30)));
      });
      const { js, wasm } = bothPaths(() => clahe(src, W, H, grid, clip));
      expect({ W, H, grid, at: firstDifference(js, wasm) }).toEqual({ W, H, grid, at: -1 });
      if (W * H > 100) expect(new Set(wasm).size).toBeGreaterThan(20);
    }
    expect(ran()).toBe(cases.length);
  });

  it('colour step: the same bits as the f32 TypeScript twins, for any pixel count, with and without a mask', () => {
    const rand = rng(21);
    // counts around the 4-pixel step, and a whole model grid
    for (const n of [1, 2, 3, 4, 5, 7, 1001, 512 * 512 + 3]) {
      // out-of-range values as well: the step clamps them to 0..255 first
      const rgb = Float32Array.from({ length: n * 3 }, () => rand() * 280 - 12);
      const l8 = Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
      const mask = Float32Array.from({ length: n }, () => (rand() < 0.3 ? 0 : rand() < 0.5 ? 1 : rand()));
      // black pixels and weight-0 pixels in whole groups of four too: the kernels skip those groups
      if (n > 16) {
        rgb.fill(0, 0, 8 * 3);
        mask.fill(0, 4, 12);
      }
      const { js, wasm } = bothPaths(() => {
        const linear = new Float32Array(n * 3);
        const L = lightness8(rgb, n, linear);
        return { L, linear, masked: replaceLightnessArray(linear, l8, n, mask), plain: replaceLightnessArray(linear, l8, n) };
      });
      expect({ n, at: firstDifference(js.L, wasm.L) }).toEqual({ n, at: -1 });
      expect({ n, at: firstDifference(js.linear, wasm.linear) }).toEqual({ n, at: -1 });
      expect({ n, at: firstDifference(js.masked, wasm.masked) }).toEqual({ n, at: -1 });
      expect({ n, at: firstDifference(js.plain, wasm.plain) }).toEqual({ n, at: -1 });
      expect(wasm.masked.some((v) => v > 0)).toBe(true);
      // weight 0 gives +0 (not -0, not NaN) on both paths
      for (let i = 0; i < n; i++) if (mask[i] === 0) expect(Object.is(wasm.masked[i * 3], 0)).toBe(true);
    }
    // the kernel's direct output: the pixels it leaves to float64 are exactly those near x.5, and the rest are the twin's rounding
    const n = 65_536;
    const rgb = Float32Array.from({ length: n * 3 }, () => rand() * 255);
    const x = new Float32Array(n);
    lightnessX32(rgb, n, x, new Float32Array(n * 3));
    const out = new Uint8Array(n);
    const flagged = photoKernels()!.labLightness(rgb, n, colourTables(), out, new Float32Array(n * 3), Math.fround(2e-3));
    const expected: number[] = [];
    for (let i = 0; i < n; i++) {
      const d = x[i] - Math.floor(x[i]) - 0.5;
      if (Math.abs(d) < Math.fround(2e-3)) expected.push(i);
      else expect(out[i]).toBe(Math.min(255, d < 0 ? Math.floor(x[i]) : Math.floor(x[i]) + 1));
    }
    expect(Array.from(flagged)).toEqual(expected);
    expect(expected.length).toBeGreaterThan(100);
  });

  it('gives the same whole analysis with and without them, and says in the result which ran', async () => {
    const { model, photo } = await tinyModelOnCpu(async () => tinyPhoto(400, 300));
    try {
      setPhotoKernelsEnabled(false);
      const js = await analyze(photo, model, { force: true, maps: 'all' });
      setPhotoKernelsEnabled(true);
      const wasm = await analyze(photo, model, { force: true, maps: 'all' });
      expect(js.photoKernels).toBe('js');
      expect(wasm.photoKernels).toBe('wasm-simd');
      expect(wasm.quality).toEqual(js.quality);
      expect(wasm.fov).toEqual(js.fov);
      expect(wasm.probabilities).toEqual(js.probabilities);
      expect(wasm.outlines).toEqual(js.outlines);
      expect(wasm.maps!.gradCam.length).toBeGreaterThan(0);
      wasm.maps!.gradCam.forEach((m, i) => expect(firstDifference(js.maps!.gradCam[i].data, m.data)).toBe(-1));
      expect(firstDifference(js.maps!.combined!, wasm.maps!.combined!)).toBe(-1);
    } finally {
      model.dispose();
    }
  });

  it('leaves the photo stages unchanged: the same FOV, quality measures and model input', () => {
    const photo = syntheticFundus({ width: 1400, height: 1000, cx: 700, cy: 500, r: 460, cornerText: true, seed: 3 });
    const { js, wasm } = bothPaths(() => {
      const fov = detectFov(photo);
      return { fov, measures: measureQuality(photo, fov), px: preprocessPixels(photo, DEFAULT_PREPROCESS, fov) };
    });
    expect(wasm.fov).toEqual(js.fov);
    expect(wasm.measures).toEqual(js.measures);
    expect(firstDifference(js.px.rgb, wasm.px.rgb)).toBe(-1);
    expect(firstDifference(js.px.equalised!, wasm.px.equalised!)).toBe(-1);
    expect(firstDifference(js.px.linear!, wasm.px.linear!)).toBe(-1);
  });
});
