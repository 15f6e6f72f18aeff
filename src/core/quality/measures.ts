/**
 * Image-quality measures for the gradability gate, computed inside the field of view on a
 * fixed-scale copy (FOV diameter = QUALITY_SIZE px), so that sharpness and noise mean the
 * same thing for a 1 MP and a 24 MP photo and match what the 512² model input will show.
 */
import type { FieldOfView, RgbImage } from '../types';
import { makeTransform, photoToModel } from '../preprocess/transform';
import { resampleArea } from '../preprocess/resample';
import { kthSmallest } from '../preprocess/select';

/** Side of the fixed-scale working copy; equals the default model input (paper: 512²). */
export const QUALITY_SIZE = 512;
/** Measures ignore the outer 8% of the FOV radius: the rim is vignetted and has the aperture edge. */
const INNER = 0.92;

export interface QualityMeasures {
  /** mean luma (Rec.601, 0..255) inside the FOV */
  meanLuma: number;
  /** fraction of FOV pixels with luma < 25: under-exposed */
  darkFraction: number;
  /** fraction of FOV pixels with luma > 235: over-exposed / glare */
  brightFraction: number;
  /** fraction of FOV pixels with all of R, G, B ≥ 250 (burnt-out white) */
  saturatedFraction: number;
  /** fraction of FOV pixels with any channel ≥ 250 (red alone often clips in good photos) */
  clippedFraction: number;
  /** fraction of FOV pixels with two or more channels ≥ 250: over-exposure */
  clipped2Fraction: number;
  /** std of luma / mean luma inside the FOV (global contrast) */
  contrast: number;
  /** detail: RMS of a band-pass (σ=1 minus σ=3 Gaussians) of green, relative to mean green, ×100 */
  sharpness: number;
  /** detail at the finest scale: RMS of the 3×3 Laplacian of green relative to mean green, ×100 */
  laplacian: number;
  /** noise σ of green (grey levels at QUALITY_SIZE), Immerkær's operator, median-based */
  noise: number;
  /** noise σ relative to mean green, ×100 */
  relativeNoise: number;
  /** mean R / mean G inside the FOV (fundus ≈ 1.6–3: red-orange) */
  redGreenRatio: number;
  /** mean B / mean R inside the FOV (fundus: small) */
  blueRedRatio: number;
  /** number of FOV pixels measured */
  pixels: number;
}

function gaussKernel(sigma: number): Float32Array {
  const r = Math.ceil(3 * sigma);
  const k = new Float32Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) { k[i + r] = Math.exp((-i * i) / (2 * sigma * sigma)); s += k[i + r]; }
  for (let i = 0; i < k.length; i++) k[i] /= s;
  return k;
}

/**
 * Separable Gaussian blur with clamped borders. The clamping is done only within `r` of the
 * edges; the interior loop has no index arithmetic beyond the tap offset. Each output is the
 * same sum in the same order as the plain clamped loop, so the values are bit-identical.
 */
function blur(src: Float32Array, W: number, H: number, sigma: number): Float32Array {
  const k = gaussKernel(sigma);
  const r = (k.length - 1) / 2;
  const tmp = new Float32Array(W * H);
  const out = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    const row = y * W;
    for (let x = 0; x < W; x++) {
      let s = 0;
      if (x >= r && x < W - r) {
        const o = row + x - r;
        for (let i = 0; i <= 2 * r; i++) s += k[i] * src[o + i];
      } else {
        for (let i = -r; i <= r; i++) s += k[i + r] * src[row + Math.min(W - 1, Math.max(0, x + i))];
      }
      tmp[row + x] = s;
    }
  }
  for (let y = 0; y < H; y++) {
    const inner = y >= r && y < H - r;
    for (let x = 0; x < W; x++) {
      let s = 0;
      if (inner) {
        const o = (y - r) * W + x;
        for (let i = 0; i <= 2 * r; i++) s += k[i] * tmp[o + i * W];
      } else {
        for (let i = -r; i <= r; i++) s += k[i + r] * tmp[Math.min(H - 1, Math.max(0, y + i)) * W + x];
      }
      out[y * W + x] = s;
    }
  }
  return out;
}

/** Median as the element at ⌊n/2⌋ of the ascending sort (upper median), as before. */
function median(values: Float32Array, n: number): number {
  return n === 0 ? 0 : kthSmallest(values, Math.floor(n / 2), n);
}

/**
 * Computes the measures inside `fov` (which must be found). Cost: one streaming resample of
 * the photo plus a few passes over QUALITY_SIZE².
 */
export function measureQuality(img: RgbImage, fov: FieldOfView): QualityMeasures {
  const S = QUALITY_SIZE;
  const t = makeTransform(fov, { inputSize: S, clahe: null, fovMargin: 0 }, img.width, img.height);
  const rgb = resampleArea(img, S, S, t.scale, t.offsetX, t.offsetY);
  const [cu, cv] = photoToModel(t, fov.cx, fov.cy);
  const rIn = (fov.radius / t.scale) * INNER;
  // Measurement region: inner FOV, on the photo (a cut FOV has no pixels above/below the frame).
  const [, v0] = photoToModel(t, 0, 0);
  const [, v1] = photoToModel(t, img.width, img.height);
  const mask = new Uint8Array(S * S);
  const green = new Float32Array(S * S);
  let n = 0, sumY = 0, sumY2 = 0, sumR = 0, sumG = 0, sumB = 0, dark = 0, bright = 0, sat = 0, clip = 0, clip2 = 0;
  for (let v = 0; v < S; v++) {
    for (let u = 0; u < S; u++) {
      const i = v * S + u;
      const r = rgb[i * 3], g = rgb[i * 3 + 1], b = rgb[i * 3 + 2];
      green[i] = g;
      // One pixel of slack so the clamped-border filters below never straddle the frame edge.
      const du = u + 0.5 - cu, dv = v + 0.5 - cv;
      if (Math.sqrt(du * du + dv * dv) > rIn || v < v0 + 3 || v + 1 > v1 - 3) continue;
      mask[i] = 1;
      n++;
      const y = 0.299 * r + 0.587 * g + 0.114 * b;
      sumY += y; sumY2 += y * y; sumR += r; sumG += g; sumB += b;
      if (y < 25) dark++;
      if (y > 235) bright++;
      if (r >= 250 && g >= 250 && b >= 250) sat++;
      const nClip = (r >= 250 ? 1 : 0) + (g >= 250 ? 1 : 0) + (b >= 250 ? 1 : 0);
      if (nClip >= 1) clip++;
      if (nClip >= 2) clip2++;
    }
  }
  if (n === 0) {
    return { meanLuma: 0, darkFraction: 1, brightFraction: 0, saturatedFraction: 0, clippedFraction: 0, clipped2Fraction: 0, contrast: 0, sharpness: 0, laplacian: 0, noise: 0, relativeNoise: 0, redGreenRatio: 0, blueRedRatio: 0, pixels: 0 };
  }
  const meanY = sumY / n;
  const stdY = Math.sqrt(Math.max(0, sumY2 / n - meanY * meanY));
  const meanG = sumG / n;

  // Band-pass detail (vessels, lesions, nerve-fibre texture at 1–3 px) is insensitive to
  // pixel noise, which lives mostly above it; the plain Laplacian is reported too.
  const b1 = blur(green, S, S, 1);
  const b3 = blur(green, S, S, 3);
  const res = new Float32Array(n);
  let bp2 = 0, lap2 = 0, k = 0;
  for (let v = 1; v < S - 1; v++)
    for (let u = 1; u < S - 1; u++) {
      const i = v * S + u;
      if (!mask[i]) continue;
      const d = b1[i] - b3[i];
      bp2 += d * d;
      const lap = green[i - 1] + green[i + 1] + green[i - S] + green[i + S] - 4 * green[i];
      lap2 += lap * lap;
      // Immerkær (1996): this 3×3 operator cancels smooth image structure, leaving noise.
      const imm =
        green[i - S - 1] - 2 * green[i - S] + green[i - S + 1] -
        2 * green[i - 1] + 4 * green[i] - 2 * green[i + 1] +
        green[i + S - 1] - 2 * green[i + S] + green[i + S + 1];
      res[k++] = Math.abs(imm);
    }
  const denom = Math.max(1, meanG);
  // The operator's response to white noise has σ·6; the median of |N(0, 36σ²)| is 0.6745·6σ.
  const noise = median(res, k) / (0.6745 * 6);
  return {
    meanLuma: meanY,
    darkFraction: dark / n,
    brightFraction: bright / n,
    saturatedFraction: sat / n,
    clippedFraction: clip / n,
    clipped2Fraction: clip2 / n,
    contrast: stdY / Math.max(1, meanY),
    sharpness: (100 * Math.sqrt(bp2 / Math.max(1, k))) / denom,
    laplacian: (100 * Math.sqrt(lap2 / Math.max(1, k))) / denom,
    noise,
    relativeNoise: (100 * noise) / denom,
    redGreenRatio: sumR / Math.max(1, sumG),
    blueRedRatio: sumB / Math.max(1, sumR),
    pixels: n,
  };
}
