/**
 * sRGB <-> CIELAB with OpenCV's constants (cvtColor COLOR_RGB2Lab / COLOR_Lab2RGB: sRGB
 * gamma, D65 white), so "CLAHE on L" means the same thing here as in the OpenCV pipelines
 * the paper's preprocessing is usually written with. The forward L* for CLAHE is computed
 * on the CPU (it must feed the CPU histogram step anyway), and so is the colour round trip
 * after CLAHE (replaceLightnessArray: one pass, where the tfjs ops of replaceLightness cost
 * ~15 kernel launches over [S², 3]; replaceLightness stays as the reference). Both run as
 * WebAssembly SIMD kernels where they can, else as their TypeScript twins below.
 */
import * as tf from '@tensorflow/tfjs';
import { scratchSlot } from '../scratch';
import { withPhotoKernels, type ColourTableSet } from '../simd/index';

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

/** L* (0..100) of linear RGB, OpenCV's constants. */
function lightnessOf(r: number, g: number, b: number): number {
  const y = RGB2XYZ[3] * r + RGB2XYZ[4] * g + RGB2XYZ[5] * b;
  return y > EPS ? 116 * Math.cbrt(y) - 16 : KAPPA * y;
}

/*
 * The colour step in float32, by table. Its cost was ~9 Math.pow/cbrt per pixel; the two gamma
 * curves and the cube root are now f32 tables (N + 1 samples, linear interpolation) and every
 * other operation is one f32 operation (Math.fround after each). Written so because the same
 * arithmetic runs as WebAssembly SIMD four pixels at a time (simd/photo-kernels.wat,
 * lab_lightness and lab_replace) and must give the same bits as this code, the fallback where
 * those kernels cannot run (simd.test.ts). Each table is sampled where its curve is smooth: the
 * linearisation over c above the linear toe, the companding over s = √v (1.055·s^(1/1.2) is
 * steep near 0 in v but not in √v), the cube root over s = √u (u^(1/3) = s^(2/3)). Against
 * the float64 formulas: L*·2.55 within 6e-5 (test: < 1e-4), made exact in 8 bits by
 * lightness8's guard band; the model input within 1e-6 (test: < 1e-5 of the tfjs ops).
 * Measured on this project's VM at 512² (bench/photo-stages.ts): preprocessing 43 → 26 ms
 * with the kernels; the twins are ~2× slower than the float64 loops they replaced (58 → 76 ms
 * for the whole stage), the price of matching the kernels bit for bit.
 */
const f32 = Math.fround;
/** samples per table (and the scale of the √-tables' index) */
const TABLE_N = 16384;
const LIN_C0 = 0.04045;
/**
 * The f32 tables the colour step interpolates (shared with the WebAssembly kernels), N + 1 entries each:
 * `toLinear` = srgbToLinear(c) at c = LIN_C0 + (1 - LIN_C0)·k/N; `cbrt` = (k/N)^(2/3), i.e. u^(1/3) at u = (k/N)²;
 * `toSrgb` = 1.055·(k/N)^(1/1.2) - 0.055, the sRGB companding at v = (k/N)².
 */
export type ColourTables = ColourTableSet;
let tables: ColourTables | null = null;
/** The tables, built on first use (3 × 64 KB). */
export function colourTables(): ColourTables {
  return (tables ??= {
    toLinear: Float32Array.from({ length: TABLE_N + 1 }, (_, k) => srgbToLinear(LIN_C0 + ((1 - LIN_C0) * k) / TABLE_N)),
    cbrt: Float32Array.from({ length: TABLE_N + 1 }, (_, k) => (k / TABLE_N) ** (2 / 3)),
    toSrgb: Float32Array.from({ length: TABLE_N + 1 }, (_, k) => 1.055 * (k / TABLE_N) ** (1 / 1.2) - 0.055),
  });
}

// The f32 constants, as the kernels spell them (hex floats in photo-kernels.wat).
const F_EPS = f32(EPS), F_KAPPA = f32(KAPPA), F_A = f32(F_LIN_A), F_B = f32(F_LIN_B), F_LTH = f32(L_THRESH), F_FTH = f32(F_THRESH);
const F_WX = f32(WHITE_X), F_WZ = f32(WHITE_Z), F_C0 = f32(LIN_C0), F_1292 = f32(12.92), F_S0 = f32(0.0031308);
const F_KLIN = f32(TABLE_N / (1 - LIN_C0)), F_N = f32(TABLE_N), F_L2X = f32(2.55), F_L100 = f32(100 / 255);

/** t[i] + (t[i+1] - t[i])·(x - i), i = clamp(trunc x, 0, N - 1), in f32 (x ≥ 0) */
function look(t: Float32Array, x: number): number {
  const i = Math.min(TABLE_N - 1, Math.trunc(x));
  const a = t[i];
  return f32(a + f32(f32(t[i + 1] - a) * f32(x - i)));
}
function clamp01(v: number): number {
  return Math.min(1, Math.max(0, v));
}
function cbrt32(u: number, t: ColourTables): number {
  return look(t.cbrt, f32(f32(Math.sqrt(u)) * F_N));
}
function toLinear32(c: number, t: ColourTables): number {
  return c <= F_C0 ? f32(c / F_1292) : look(t.toLinear, f32(f32(c - F_C0) * F_KLIN));
}
function fLab32(u: number, t: ColourTables): number {
  return u > F_EPS ? cbrt32(u, t) : f32(f32(u * F_A) + F_B);
}
function invF32(u: number): number {
  return u > F_FTH ? f32(f32(u * u) * u) : f32(f32(u - F_B) / F_A);
}
function toSrgb32(c: number, t: ColourTables): number {
  const v = clamp01(c);
  return clamp01(v <= F_S0 ? f32(v * F_1292) : look(t.toSrgb, f32(f32(Math.sqrt(v)) * F_N)));
}
const [A0, A1, A2, A3, A4, A5, A6, A7, A8] = RGB2XYZ.map(f32);
const [M0, M1, M2, M3, M4, M5, M6, M7, M8] = XYZ2RGB.map(f32);

/**
 * lab_lightness's twin: for n pixels of interleaved RGB (0..255) the linear RGB (0..1, into
 * `linear`) and L*·2.55 before rounding (into `x`). Exported for the kernels' tests.
 * @internal
 */
export function lightnessX32(rgb: Float32Array, n: number, x: Float32Array, linear: Float32Array, t = colourTables()): void {
  for (let i = 0; i < n; i++) {
    const r = toLinear32(clamp01(f32(rgb[i * 3] / 255)), t);
    const g = toLinear32(clamp01(f32(rgb[i * 3 + 1] / 255)), t);
    const b = toLinear32(clamp01(f32(rgb[i * 3 + 2] / 255)), t);
    const y = f32(f32(f32(A3 * r) + f32(A4 * g)) + f32(A5 * b));
    const L = y > F_EPS ? f32(f32(116 * cbrt32(y, t)) - 16) : f32(F_KAPPA * y);
    x[i] = f32(L * F_L2X);
    linear[i * 3] = r;
    linear[i * 3 + 1] = g;
    linear[i * 3 + 2] = b;
  }
}

/**
 * lab_replace's twin: {@link replaceLightnessArray} in f32 (pixels of weight 0 stay +0).
 * @internal
 */
export function replaceLightness32(linear: Float32Array, newL8: Uint8Array, n: number, mask: Float32Array | undefined, out: Float32Array, t = colourTables()): void {
  for (let i = 0; i < n; i++) {
    const m = mask ? mask[i] : 1;
    if (m === 0) continue;
    const r = linear[i * 3], g = linear[i * 3 + 1], b = linear[i * 3 + 2];
    // each matrix row summed left to right in f32, as the kernel does
    const fx = fLab32(f32(f32(f32(f32(A0 * r) + f32(A1 * g)) + f32(A2 * b)) / F_WX), t);
    const fy = fLab32(f32(f32(f32(A3 * r) + f32(A4 * g)) + f32(A5 * b)), t);
    const fz = fLab32(f32(f32(f32(f32(A6 * r) + f32(A7 * g)) + f32(A8 * b)) / F_WZ), t);
    const L = f32(newL8[i] * F_L100);
    const bright = L > F_LTH;
    const fy2 = bright ? f32(f32(L + 16) / 116) : f32(f32(f32(L / F_KAPPA) * F_A) + F_B);
    const y2 = bright ? f32(f32(fy2 * fy2) * fy2) : f32(L / F_KAPPA);
    // a*/500 = fx - fy and b*/200 = fy - fz carry over
    const x2 = f32(invF32(f32(fy2 + f32(fx - fy))) * F_WX);
    const z2 = f32(invF32(f32(fy2 - f32(fy - fz))) * F_WZ);
    out[i * 3] = f32(toSrgb32(f32(f32(f32(M0 * x2) + f32(M1 * y2)) + f32(M2 * z2)), t) * m);
    out[i * 3 + 1] = f32(toSrgb32(f32(f32(f32(M3 * x2) + f32(M4 * y2)) + f32(M5 * z2)), t) * m);
    out[i * 3 + 2] = f32(toSrgb32(f32(f32(f32(M6 * x2) + f32(M7 * y2)) + f32(M8 * z2)), t) * m);
  }
}

/**
 * Half-width of the band around a rounding boundary (x.5) in which lightness8 does not trust the
 * f32 L*·2.55 and recomputes it with Math.pow/cbrt. The f32 value is within 6e-5 of the float64
 * one (measured on 400k random colours and a photo); the band is 30× that. An f32, so the
 * kernel compares with the same number.
 */
const GUARD = f32(2e-3);
const X = scratchSlot();

/**
 * L* of CIELAB scaled to 0..255 and rounded (OpenCV's 8-bit Lab convention) for every
 * pixel of an interleaved RGB float image in 0..255. Computed in f32 by table (the WebAssembly
 * kernel where it runs, else its TypeScript twin: same bits); where the scaled L* lies within
 * {@link GUARD} of a rounding boundary the pixel is recomputed with Math.pow, so the 8-bit output
 * is exactly that of the plain formula ({@link lightness8Reference}; tests on a real photo and on
 * random colours).
 * @param linear optional [n*3] output: the linear RGB (0..1) computed on the way, so the
 *   colour round trip ({@link replaceLightnessArray}) need not linearise every channel again.
 * @param into optional [n] array for the result (every element written), else a new one
 */
export function lightness8(rgb: Float32Array, n: number, linear?: Float32Array, into?: Uint8Array): Uint8Array {
  const t = colourTables();
  const out = into ?? new Uint8Array(n);
  const lin = linear ?? new Float32Array(n * 3);
  const flagged = withPhotoKernels((k) => k.labLightness(rgb, n, t, out, lin, GUARD));
  if (flagged) {
    for (const i of flagged) out[i] = Math.min(255, Math.max(0, Math.round(lightnessExact(rgb, i))));
    return out;
  }
  const x = X.f32(n);
  lightnessX32(rgb, n, x, lin, t);
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const fl = Math.floor(v);
    // exact in f64 as in f32: the kernel rounds the same way (round half up: floor, or floor + 1)
    const d = v - fl - 0.5;
    const r = d <= -GUARD ? fl : d >= GUARD ? fl + 1 : Math.round(lightnessExact(rgb, i));
    out[i] = Math.min(255, Math.max(0, r));
  }
  return out;
}

/** L*·2.55 of pixel i with Math.pow and Math.cbrt, in float64 */
function lightnessExact(rgb: Float32Array, i: number): number {
  const r = srgbToLinear(Math.min(1, Math.max(0, rgb[i * 3] / 255)));
  const g = srgbToLinear(Math.min(1, Math.max(0, rgb[i * 3 + 1] / 255)));
  const b = srgbToLinear(Math.min(1, Math.max(0, rgb[i * 3 + 2] / 255)));
  return (lightnessOf(r, g, b) * 255) / 100;
}

/** {@link lightness8} with Math.pow throughout: the reference the table version must equal. */
export function lightness8Reference(rgb: Float32Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.min(255, Math.max(0, Math.round(lightnessExact(rgb, i))));
  return out;
}

/**
 * {@link replaceLightness} on plain arrays, in f32 by table (the WebAssembly kernel where it
 * runs, else its TypeScript twin: same bits). The tfjs version ran ~15 element-wise kernels over
 * [S², 3] (Pow, SplitV, Concat on wasm: 250 ms warm and ~900 ms on its first call at 512²); this
 * is one pass. Results agree with the tfjs ops to float32 rounding (test: < 1e-5).
 * @param linear [n*3] linear RGB in 0..1 (from {@link lightness8}'s `linear` output)
 * @param newL8 [n] the new L* as 0..255 (OpenCV's 8-bit Lab scale), e.g. CLAHE's output
 * @param mask optional [n] weights the result is multiplied by (FOV mask); pixels with weight 0 are 0
 * @param into optional [n*3] array to write the result into (every element), else a new one
 * @returns [n*3] sRGB in 0..1
 */
export function replaceLightnessArray(linear: Float32Array, newL8: Uint8Array, n: number, mask?: Float32Array, into?: Float32Array): Float32Array {
  const out = into ?? new Float32Array(n * 3);
  const t = colourTables();
  if (withPhotoKernels((k) => k.labReplace(linear, newL8, mask, n, t, out)) === undefined) {
    if (into) out.fill(0, 0, n * 3); // the JS twin skips masked-out pixels
    replaceLightness32(linear, newL8, n, mask, out, t);
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
