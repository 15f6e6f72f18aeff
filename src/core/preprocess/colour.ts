/**
 * sRGB <-> CIELAB with OpenCV's constants (cvtColor COLOR_RGB2Lab / COLOR_Lab2RGB: sRGB
 * gamma, D65 white), so "CLAHE on L" means the same thing here as in the OpenCV pipelines
 * the paper's preprocessing is usually written with. The forward L* for CLAHE is computed
 * in TypeScript (it must feed the CPU histogram step anyway), and so is the colour round
 * trip after CLAHE (replaceLightnessArray: one pass, where the tfjs ops of replaceLightness
 * cost ~15 kernel launches over [S², 3]; replaceLightness stays as the reference).
 */
import * as tf from '@tensorflow/tfjs';

const RGB2XYZ = [0.412453, 0.35758, 0.180423, 0.212671, 0.71516, 0.072169, 0.019334, 0.119193, 0.950227];
const XYZ2RGB = [3.240479, -1.53715, -0.498535, -0.969256, 1.875991, 0.041556, 0.055648, -0.204043, 1.057311];
const WHITE_X = 0.950456;
const WHITE_Z = 1.088754;
/** CIE ε and κ as OpenCV writes them. */
const EPS = 0.008856;
const KAPPA = 903.3;
const F_LIN_A = 7.787;
const F_LIN_B = 16 / 116;
/** L* at the cube-root/linear junction, and f(ε) = 6/29. */
const L_THRESH = EPS * KAPPA;
const F_THRESH = 6 / 29;

function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/*
 * Gamma by table (the colour step's cost was ~9 Math.pow/cbrt per pixel). Both curves are
 * sampled at LUT_N + 1 points and interpolated linearly; the error bound h²/8·max|f''| is
 * below 3e-9 on [0, 1] for both (test), far below the float32 resolution of the model
 * input. Where a value is ROUNDED (L* to 8 bits, the CLAHE input) the table is not trusted
 * near a rounding boundary: see lightness8.
 */
const LUT_N = 16384;
const LIN_C0 = 0.04045;
let toLinearT: Float64Array | null = null;
let toSrgbT: Float64Array | null = null;

/** srgbToLinear for c in [0, 1], by table (|error| < 3e-9). */
export function srgbToLinearFast(c: number): number {
  if (c <= LIN_C0) return c / 12.92;
  const t = (toLinearT ??= Float64Array.from({ length: LUT_N + 1 }, (_, k) => srgbToLinear(LIN_C0 + ((1 - LIN_C0) * k) / LUT_N)));
  const x = ((c - LIN_C0) * LUT_N) / (1 - LIN_C0);
  const i = Math.min(LUT_N - 1, x | 0);
  return t[i] + (t[i + 1] - t[i]) * (x - i);
}

/**
 * sRGB companding of a linear value clipped to [0, 1], by table over s = √v (the curve
 * 1.055·v^(1/2.4) is steep near 0 in v but smooth in √v: 1.055·s^(1/1.2)); |error| < 3e-9.
 */
export function linearToSrgbFast(c: number): number {
  const v = c < 0 ? 0 : c > 1 ? 1 : c;
  if (v <= 0.0031308) return v * 12.92;
  const t = (toSrgbT ??= Float64Array.from({ length: LUT_N + 1 }, (_, k) => 1.055 * (k / LUT_N) ** (1 / 1.2) - 0.055));
  const x = Math.sqrt(v) * LUT_N;
  const i = Math.min(LUT_N - 1, x | 0);
  const out = t[i] + (t[i + 1] - t[i]) * (x - i);
  return out < 0 ? 0 : out > 1 ? 1 : out;
}

/** The exact companding (Math.pow), clipped to [0, 1]: the reference of linearToSrgbFast. */
export function linearToSrgb(c: number): number {
  const v = Math.min(1, Math.max(0, c));
  return Math.min(1, Math.max(0, v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055));
}

/** L* (0..100) of linear RGB, OpenCV's constants. */
function lightnessOf(r: number, g: number, b: number): number {
  const y = RGB2XYZ[3] * r + RGB2XYZ[4] * g + RGB2XYZ[5] * b;
  return y > EPS ? 116 * Math.cbrt(y) - 16 : KAPPA * y;
}

/**
 * L* of CIELAB scaled to 0..255 and rounded (OpenCV's 8-bit Lab convention) for every
 * pixel of an interleaved RGB float image in 0..255. Gamma comes from a table; where the
 * scaled L* lies within 1e-4 of a rounding boundary (the table moves it by < 1e-5) the pixel
 * is recomputed with Math.pow, so the 8-bit output is exactly that of the plain formula
 * ({@link lightness8Reference}; tests on a real photo and on random colours).
 * @param linear optional [n*3] output: the linear RGB (0..1) computed on the way, so the
 *   colour round trip ({@link replaceLightnessArray}) need not linearise every channel again.
 */
export function lightness8(rgb: Float32Array, n: number, linear?: Float32Array): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const cr = Math.min(1, Math.max(0, rgb[i * 3] / 255));
    const cg = Math.min(1, Math.max(0, rgb[i * 3 + 1] / 255));
    const cb = Math.min(1, Math.max(0, rgb[i * 3 + 2] / 255));
    let r = srgbToLinearFast(cr), g = srgbToLinearFast(cg), b = srgbToLinearFast(cb);
    let x = (lightnessOf(r, g, b) * 255) / 100;
    if (Math.abs(x - Math.floor(x) - 0.5) < 1e-4) {
      r = srgbToLinear(cr);
      g = srgbToLinear(cg);
      b = srgbToLinear(cb);
      x = (lightnessOf(r, g, b) * 255) / 100;
    }
    if (linear) {
      linear[i * 3] = r;
      linear[i * 3 + 1] = g;
      linear[i * 3 + 2] = b;
    }
    out[i] = Math.min(255, Math.max(0, Math.round(x)));
  }
  return out;
}

/** {@link lightness8} with Math.pow throughout: the reference the table version must equal. */
export function lightness8Reference(rgb: Float32Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = srgbToLinear(Math.min(1, Math.max(0, rgb[i * 3] / 255)));
    const g = srgbToLinear(Math.min(1, Math.max(0, rgb[i * 3 + 1] / 255)));
    const b = srgbToLinear(Math.min(1, Math.max(0, rgb[i * 3 + 2] / 255)));
    out[i] = Math.min(255, Math.max(0, Math.round((lightnessOf(r, g, b) * 255) / 100)));
  }
  return out;
}

const invF = (t: number): number => (t > F_THRESH ? t * t * t : (t - F_LIN_B) / F_LIN_A);
const fLab = (t: number): number => (t > EPS ? Math.cbrt(Math.max(t, 0)) : t * F_LIN_A + F_LIN_B);

/**
 * {@link replaceLightness} on plain arrays: the same formulas in double precision on the CPU.
 * The tfjs version ran ~15 element-wise kernels over [S², 3] (Pow, SplitV, Concat on wasm:
 * 250 ms warm and ~900 ms on its first call at 512²); this loop is one pass. The new L* is
 * 8-bit (CLAHE output), so its part of the inverse (f(y) and y) is a 256-entry table — exact,
 * not an approximation. Results agree with the tfjs ops to float32 rounding (test: < 1e-5).
 * @param linear [n*3] linear RGB in 0..1 (from {@link lightness8}'s `linear` output)
 * @param newL8 [n] the new L* as 0..255 (OpenCV's 8-bit Lab scale), e.g. CLAHE's output
 * @param mask optional [n] weights the result is multiplied by (FOV mask); pixels with weight 0 are skipped
 * @returns [n*3] sRGB in 0..1
 */
export function replaceLightnessArray(linear: Float32Array, newL8: Uint8Array, n: number, mask?: Float32Array): Float32Array {
  const out = new Float32Array(n * 3);
  const fyT = new Float64Array(256);
  const yT = new Float64Array(256);
  for (let l = 0; l < 256; l++) {
    // Same float32 rounding of L as the tfjs path (uint8 → float32 times 100/255 in float32).
    const L = Math.fround(l * Math.fround(100 / 255));
    const bright = L > L_THRESH;
    fyT[l] = bright ? (L + 16) / 116 : (L / KAPPA) * F_LIN_A + F_LIN_B;
    yT[l] = bright ? fyT[l] ** 3 : L / KAPPA;
  }
  const [a0, a1, a2, b0, b1, b2, c0, c1, c2] = RGB2XYZ;
  const [m0, m1, m2, n0, n1, n2, o0, o1, o2] = XYZ2RGB;
  for (let i = 0; i < n; i++) {
    const m = mask ? mask[i] : 1;
    if (m === 0) continue;
    const r = linear[i * 3], g = linear[i * 3 + 1], b = linear[i * 3 + 2];
    const fx = fLab((a0 * r + a1 * g + a2 * b) / WHITE_X);
    const fy = fLab(b0 * r + b1 * g + b2 * b);
    const fz = fLab((c0 * r + c1 * g + c2 * b) / WHITE_Z);
    const l = newL8[i];
    const fy2 = fyT[l];
    const x2 = invF(fy2 + (fx - fy)) * WHITE_X;
    const y2 = yT[l];
    const z2 = invF(fy2 - (fy - fz)) * WHITE_Z;
    out[i * 3] = linearToSrgbFast(m0 * x2 + m1 * y2 + m2 * z2) * m;
    out[i * 3 + 1] = linearToSrgbFast(n0 * x2 + n1 * y2 + n2 * z2) * m;
    out[i * 3 + 2] = linearToSrgbFast(o0 * x2 + o1 * y2 + o2 * z2) * m;
  }
  return out;
}

/** Column-major-for-matMul copy of a row-major 3×3 matrix: out = in · Mᵀ. */
function matT(m: number[]): tf.Tensor2D {
  return tf.tensor2d([m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]], [3, 3]);
}

/**
 * Replaces the lightness of `rgb` ([N,3], 0..1) by `newL` ([N,1], L* in 0..100) keeping
 * a* and b*, and returns the result as sRGB in 0..1. Call inside tf.tidy.
 */
export function replaceLightness(rgb: tf.Tensor2D, newL: tf.Tensor2D): tf.Tensor2D {
  const lin = tf.where(tf.lessEqual(rgb, 0.04045), tf.div(rgb, 12.92), tf.pow(tf.div(tf.add(rgb, 0.055), 1.055), 2.4));
  const xyz = tf.div(tf.matMul(lin, matT(RGB2XYZ)), tf.tensor1d([WHITE_X, 1, WHITE_Z]));
  const f = tf.where(tf.greater(xyz, EPS), tf.pow(tf.maximum(xyz, 0), 1 / 3), tf.add(tf.mul(xyz, F_LIN_A), F_LIN_B));
  const [fx, fy, fz] = tf.split(f, 3, 1);
  // a*/500 = fx - fy and b*/200 = fy - fz, so only the differences carry over.
  const bright = tf.greater(newL, L_THRESH);
  const fy2 = tf.where(bright, tf.div(tf.add(newL, 16), 116), tf.add(tf.mul(tf.div(newL, KAPPA), F_LIN_A), F_LIN_B));
  const y2 = tf.where(bright, tf.pow(fy2, 3), tf.div(newL, KAPPA));
  const inv = (t: tf.Tensor) => tf.where(tf.greater(t, F_THRESH), tf.pow(t, 3), tf.div(tf.sub(t, F_LIN_B), F_LIN_A));
  const x2 = tf.mul(inv(tf.add(fy2, tf.sub(fx, fy))), WHITE_X);
  const z2 = tf.mul(inv(tf.sub(fy2, tf.sub(fy, fz))), WHITE_Z);
  const lin2 = tf.clipByValue(tf.matMul(tf.concat([x2, y2, z2], 1), matT(XYZ2RGB)), 0, 1);
  const srgb = tf.where(
    tf.lessEqual(lin2, 0.0031308),
    tf.mul(lin2, 12.92),
    tf.sub(tf.mul(tf.pow(lin2, 1 / 2.4), 1.055), 0.055),
  );
  return tf.clipByValue(srgb, 0, 1) as tf.Tensor2D;
}
