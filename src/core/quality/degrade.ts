/**
 * Deterministic degradations of a photo (blur, exposure, noise) used to calibrate and test
 * the gradability gate: each must be caught with the right reason while the originals pass.
 */
import type { RgbImage } from '../types';
import { rng } from '../preprocess/synthetic-photos';

/** Gaussian blur (σ in photo pixels), separable, clamped borders: an out-of-focus photo. */
export function blurImage(img: RgbImage, sigma: number): RgbImage {
  const { width: W, height: H, channels: C, data } = img;
  const r = Math.ceil(3 * sigma);
  const k = new Float32Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) { k[i + r] = Math.exp((-i * i) / (2 * sigma * sigma)); s += k[i + r]; }
  for (let i = 0; i < k.length; i++) k[i] /= s;
  const tmp = new Float32Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < 3; c++) {
        let a = 0;
        for (let i = -r; i <= r; i++) a += k[i + r] * data[(y * W + Math.min(W - 1, Math.max(0, x + i))) * C + c];
        tmp[(y * W + x) * 3 + c] = a;
      }
  const out = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < 3; c++) {
        let a = 0;
        for (let i = -r; i <= r; i++) a += k[i + r] * tmp[(Math.min(H - 1, Math.max(0, y + i)) * W + x) * 3 + c];
        out[(y * W + x) * 3 + c] = Math.round(a);
      }
  return { width: W, height: H, channels: 3, data: out };
}

/** Multiplies every channel by `gain` and clips: < 1 under-exposes, > 1 over-exposes (burns out). */
export function exposeImage(img: RgbImage, gain: number): RgbImage {
  const { width: W, height: H, channels: C, data } = img;
  const out = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++)
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.min(255, Math.round(data[i * C + c] * gain));
  return { width: W, height: H, channels: 3, data: out };
}

/** Adds Gaussian noise of σ grey levels (sensor noise at high gain). */
export function noisyImage(img: RgbImage, sigma: number, seed = 7): RgbImage {
  const { width: W, height: H, channels: C, data } = img;
  const rand = rng(seed);
  const out = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++)
    for (let c = 0; c < 3; c++) {
      // Box–Muller
      const g = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
      out[i * 3 + c] = Math.min(255, Math.max(0, Math.round(data[i * C + c] + sigma * g)));
    }
  return { width: W, height: H, channels: 3, data: out };
}
