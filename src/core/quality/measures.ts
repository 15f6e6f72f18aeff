/**
 * Image-quality measures for the gradability gate, computed inside the field of view on a
 * fixed-scale copy (FOV diameter = QUALITY_SIZE px), so that sharpness and noise mean the
 * same thing for a 1 MP and a 24 MP photo and match what the 512² model input will show.
 */
import type { FieldOfView, RgbImage } from '../types';
import { makeTransform, photoToModel } from '../preprocess/transform';
import { resampleArea } from '../preprocess/resample';
import { kthSmallest } from '../preprocess/select';
import { scratchSlot } from '../scratch';
import { gaussianBlur as blur, gaussianKernel as gaussKernel } from './blur';

// Reused memory for the 512² temporaries below (scratch.ts: why, and the rules)
const RGB = scratchSlot(), MASK = scratchSlot(), GREEN = scratchSlot(), B1 = scratchSlot(), B3 = scratchSlot(), RES = scratchSlot();
const INNER_MASK = scratchSlot(), MAG = scratchSlot(), PTS = scratchSlot(), PT_MAG = scratchSlot();
const EDGE_BLURS = [scratchSlot(), scratchSlot(), scratchSlot()];

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
  /**
   * edge sharpness: at the strongest edges (see {@link edgeSharpness}), the 75th percentile of
   * |∇ green σ0.7| / |∇ green σ1.5|; falls as blur widens edges, barely moves with pixel noise
   */
  edgeSharpness: number;
  /** number of edge points edgeSharpness was measured on */
  edgePoints: number;
  /** slope (grey levels / px at QUALITY_SIZE, σ1 smoothing) of the weakest of those edge points */
  edgeStrength: number;
}

/** Median as the element at ⌊n/2⌋ of the ascending sort (upper median), as before. */
function median(values: Float32Array, n: number): number {
  return n === 0 ? 0 : kthSmallest(values, Math.floor(n / 2), n);
}

/** Parameters of {@link edgeSharpness}; the defaults are the calibrated ones. */
export interface EdgeSharpnessParams {
  /** light smoothing (px at QUALITY_SIZE) that keeps an edge's slope but damps pixel noise */
  fineSigma: number;
  /** heavy smoothing: its slope at an edge hardly depends on how sharp the edge is */
  coarseSigma: number;
  /** smoothing of the image on which edge points are located and ranked */
  selectSigma: number;
  /** how many edge points: this fraction of the measured FOV pixels, the strongest ones */
  fraction: number;
  /** which quantile of the per-point ratios is reported (upper: the photo's sharpest edges) */
  quantile: number;
}

/**
 * Calibrated on 536 real photos and blurred (+ noisy) copies of every 8th (see THRESHOLDS in
 * index.ts). Of the variants tried (fine σ 0.5/0.7, coarse σ 1.5/2, edge points ranked at σ 1,
 * 1.5 or 2 or at the coarse scale, 0.5–2 % of the pixels, median / 75th / 90th percentile),
 * this one let the fewest originals fall among the blurred copies.
 */
export const EDGE_SHARPNESS: Readonly<EdgeSharpnessParams> = Object.freeze({
  fineSigma: 0.7,
  coarseSigma: 1.5,
  selectSigma: 1,
  fraction: 0.01,
  quantile: 0.75,
});

/** See the end of {@link edgeSharpness}: lift of the ratio by noise, per (σ / weakest slope)². */
const NOISE_LIFT = 0.5;

/** Variance of one central-difference gradient component of σ-smoothed unit white noise. */
function gradientNoiseGain(sigma: number): number {
  const k = gaussKernel(sigma);
  let g2 = 0, d2 = 0;
  for (let i = 0; i < k.length; i++) {
    g2 += k[i] * k[i];
    const d = ((i + 1 < k.length ? k[i + 1] : 0) - (i > 0 ? k[i - 1] : 0)) / 2;
    d2 += d * d;
  }
  return g2 * d2;
}

// The passes of edgeSharpness and measureQuality, one loop each. V8 optimises a long function with several hot
// loops one loop at a time (on-stack replacement), and inside an analysis, after the model's stages, these
// re-entered through that path on every photo; a small function per loop is optimised whole once.

/** inner[i] = 1 where the mask holds at i and `m` pixels away on the four axes; returns the count. */
function innerMask(mask: Uint8Array, W: number, H: number, m: number, inner: Uint8Array): number {
  let nMask = 0;
  for (let y = m; y < H - m; y++)
    for (let x = m; x < W - m; x++) {
      const i = y * W + x;
      if (mask[i] && mask[i - m] && mask[i + m] && mask[i - m * W] && mask[i + m * W]) { inner[i] = 1; nMask++; }
    }
  return nMask;
}

/** Central-difference gradient magnitude of `sel` (0 on the one-pixel border). */
function gradientMagnitude(sel: Float32Array, W: number, H: number, mag: Float32Array): void {
  for (let y = 1; y < H - 1; y++)
    for (let x = 1; x < W - 1; x++) {
      const i = y * W + x;
      const gx = sel[i + 1] - sel[i - 1], gy = sel[i + W] - sel[i - W];
      mag[i] = Math.sqrt(gx * gx + gy * gy) / 2;
    }
}

/** Non-maximum suppression across the edge, the gradient direction quantised to 4 axes: the points and their slopes. */
function edgePoints(sel: Float32Array, mag: Float32Array, inner: Uint8Array, W: number, H: number, pts: Int32Array, ptMag: Float32Array): number {
  let np = 0;
  for (let y = 1; y < H - 1; y++)
    for (let x = 1; x < W - 1; x++) {
      const i = y * W + x;
      const g = mag[i];
      if (!inner[i] || g <= 0) continue;
      const gx = sel[i + 1] - sel[i - 1], gy = sel[i + W] - sel[i - W];
      const ax = Math.abs(gx), ay = Math.abs(gy);
      const o = ax > 2.414 * ay ? 1 : ay > 2.414 * ax ? W : gx * gy > 0 ? W + 1 : W - 1;
      if (g >= mag[i - o] && g > mag[i + o]) { pts[np] = i; ptMag[np++] = g; }
    }
  return np;
}

/** Fine ÷ coarse slope, noise removed, at the points with a slope of at least minMag; returns how many. */
function slopeRatios(
  pts: Int32Array, ptMag: Float32Array, np: number, minMag: number,
  fine: Float32Array, coarse: Float32Array, W: number, noiseVar: number, ratios: Float32Array,
): number {
  let n = 0;
  for (let j = 0; j < np && n < ratios.length; j++) {
    if (ptMag[j] < minMag) continue;
    const i = pts[j];
    const cx = coarse[i + 1] - coarse[i - 1], cy = coarse[i + W] - coarse[i - W];
    const c = Math.sqrt(cx * cx + cy * cy) / 2;
    if (c <= 0) continue;
    const fx = fine[i + 1] - fine[i - 1], fy = fine[i + W] - fine[i - W];
    const f2 = (fx * fx + fy * fy) / 4 - noiseVar;
    ratios[n++] = Math.sqrt(Math.max(0, f2)) / c;
  }
  return n;
}

/**
 * The FOV statistics pass of measureQuality: marks the measured pixels in `mask`, copies green, and returns
 * [n, ΣY, ΣY², ΣR, ΣG, ΣB, dark, bright, saturated, clipped, clipped2] (sums in pixel order, as before).
 */
function fovStats(rgb: Float32Array, S: number, cu: number, cv: number, rIn: number, v0: number, v1: number, mask: Uint8Array, green: Float32Array): number[] {
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
  return [n, sumY, sumY2, sumR, sumG, sumB, dark, bright, sat, clip, clip2];
}

/** The detail pass: Σ band-pass², Σ Laplacian², and |Immerkær| per measured pixel into `res`; returns [bp2, lap2, k]. */
function detailPass(b1: Float32Array, b3: Float32Array, green: Float32Array, mask: Uint8Array, S: number, res: Float32Array): number[] {
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
  return [bp2, lap2, k];
}

/**
 * Edge sharpness of a grey image inside `mask`. Blur widens edges; pixel noise adds energy at
 * every scale, which is why energy measures over the whole field (Laplacian, band-pass) call a
 * blurred-then-noisy photo sharp. Here only the strongest edges count (vessel walls, disc rim,
 * exudate borders: slopes of several grey levels per pixel against a noise slope well below
 * one), and what is measured is their width: for a step edge blurred by s, the slope after
 * smoothing by σ is ∝ 1/√(s² + σ²), so |∇ fine| / |∇ coarse| = √(s² + σc²) / √(s² + σf²)
 * falls towards 1 as s grows (σf = 0.7, σc = 1.5: 2.1 at s = 0, 1.5 at s = 1, 1.2 at s = 2).
 * Real photos at QUALITY_SIZE are already soft (s ≈ 1–2 px), so the values are lower than a
 * step edge's and vary from photo to photo; see THRESHOLDS in index.ts for measured ranges.
 *
 * Edge points are the local maxima of the gradient magnitude across the edge (non-maximum
 * suppression, as in Canny), so a wide soft structure counts once per unit of length, not once
 * per pixel of its width. The strongest `fraction` of them are kept; the expected noise part of
 * the fine slope (from `noise`, the image's noise σ) is removed before the ratio is taken, and
 * the bias that remains from ranking noisy slopes is subtracted from the result.
 * Returns the `quantile` of the ratios (0 if no edge point), how many points it was taken over and
 * the slope of the weakest point kept (grey levels / px at `selectSigma`).
 * Cost: three separable blurs (fewer when `blurred` already holds some) and a few passes over
 * the image: ~35 ms at 512² in Node here, ~4 ms of it beyond the blurs.
 */
export function edgeSharpness(
  grey: Float32Array, W: number, H: number, mask: Uint8Array, noise: number,
  params: EdgeSharpnessParams = EDGE_SHARPNESS,
  blurred: Record<number, Float32Array> = {},
): { sharpness: number; points: number; strength: number } {
  let made = 0;
  // own blurs into this call's scratch (at most three distinct σ); `blurred` is the caller's and is not kept
  const own: Record<number, Float32Array> = {};
  const get = (sigma: number) => blurred[sigma] ?? (own[sigma] ??= blur(grey, W, H, sigma, EDGE_BLURS[made++].f32(W * H)));
  const sel = get(params.selectSigma), fine = get(params.fineSigma), coarse = get(params.coarseSigma);
  // The coarse blur reaches 3σc: points nearer the mask's edge would see the FOV rim or the frame.
  const m = Math.ceil(3 * params.coarseSigma) + 2;
  const inner = INNER_MASK.u8(W * H).fill(0);
  const nMask = innerMask(mask, W, H, m, inner);
  const mag = MAG.f32(W * H).fill(0); // the border stays 0: edgePoints reads it
  gradientMagnitude(sel, W, H, mag);
  const pts = PTS.i32(W * H);
  const ptMag = PT_MAG.f32(W * H);
  const np = edgePoints(sel, mag, inner, W, H, pts, ptMag);
  const keep = Math.min(np, Math.max(20, Math.round(params.fraction * nMask)));
  if (keep === 0) return { sharpness: 0, points: 0, strength: 0 };
  const minMag = kthSmallest(ptMag, np - keep, np);
  const noiseVar = 2 * noise * noise * gradientNoiseGain(params.fineSigma);
  const ratios = new Float32Array(keep + 64);
  const n = slopeRatios(pts, ptMag, np, minMag, fine, coarse, W, noiseVar, ratios);
  if (n === 0) return { sharpness: 0, points: 0, strength: minMag };
  const q = kthSmallest(ratios, Math.min(n - 1, Math.floor(params.quantile * n)), n, true);
  // Ranking points by slope favours those where noise happens to steepen the edge, which the
  // mean noise energy removed above does not undo. On low-contrast photos (weakest kept slope g
  // of 1–2 grey levels / px) that lifted blurred + noisy copies by up to 0.35. The lift is
  // ≈ 0.5 (σ / g)²: fitted on 67 real photos × blur σ2/σ3 × noise σ1/2/3 (residual sd 0.0065,
  // against 0.046 uncorrected); with it, a blurred copy reads the same with or without noise.
  const lift = noise > 0 && minMag > 0 ? NOISE_LIFT * (noise / minMag) ** 2 : 0;
  return { sharpness: Math.max(0, q - lift), points: n, strength: minMag };
}

/**
 * Computes the measures inside `fov` (which must be found). Cost: one streaming resample of
 * the photo plus a few passes over QUALITY_SIZE².
 */
export function measureQuality(img: RgbImage, fov: FieldOfView): QualityMeasures {
  const S = QUALITY_SIZE;
  const t = makeTransform(fov, { inputSize: S, clahe: null, fovMargin: 0 }, img.width, img.height);
  const rgb = resampleArea(img, S, S, t.scale, t.offsetX, t.offsetY, RGB.f32(S * S * 3));
  const [cu, cv] = photoToModel(t, fov.cx, fov.cy);
  const rIn = (fov.radius / t.scale) * INNER;
  // Measurement region: inner FOV, on the photo (a cut FOV has no pixels above/below the frame).
  const [, v0] = photoToModel(t, 0, 0);
  const [, v1] = photoToModel(t, img.width, img.height);
  const mask = MASK.u8(S * S).fill(0);
  const green = GREEN.f32(S * S);
  const [n, sumY, sumY2, sumR, sumG, sumB, dark, bright, sat, clip, clip2] = fovStats(rgb, S, cu, cv, rIn, v0, v1, mask, green);
  if (n === 0) {
    return { meanLuma: 0, darkFraction: 1, brightFraction: 0, saturatedFraction: 0, clippedFraction: 0, clipped2Fraction: 0, contrast: 0, sharpness: 0, laplacian: 0, noise: 0, relativeNoise: 0, redGreenRatio: 0, blueRedRatio: 0, pixels: 0, edgeSharpness: 0, edgePoints: 0, edgeStrength: 0 };
  }
  const meanY = sumY / n;
  const stdY = Math.sqrt(Math.max(0, sumY2 / n - meanY * meanY));
  const meanG = sumG / n;

  // Band-pass detail (vessels, lesions, nerve-fibre texture at 1–3 px) is insensitive to
  // pixel noise, which lives mostly above it; the plain Laplacian is reported too.
  const b1 = blur(green, S, S, 1, B1.f32(S * S));
  const b3 = blur(green, S, S, 3, B3.f32(S * S));
  const res = RES.f32(n);
  const [bp2, lap2, k] = detailPass(b1, b3, green, mask, S, res);
  const denom = Math.max(1, meanG);
  // The operator's response to white noise has σ·6; the median of |N(0, 36σ²)| is 0.6745·6σ.
  const noise = median(res, k) / (0.6745 * 6);
  const edges = edgeSharpness(green, S, S, mask, noise, EDGE_SHARPNESS, { 1: b1, 3: b3 });
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
    edgeSharpness: edges.sharpness,
    edgePoints: edges.points,
    edgeStrength: edges.strength,
  };
}
