/**
 * sRGB <-> CIELAB with OpenCV's constants (cvtColor COLOR_RGB2Lab / COLOR_Lab2RGB: sRGB
 * gamma, D65 white), so "CLAHE on L" means the same thing here as in the OpenCV pipelines
 * the paper's preprocessing is usually written with. The forward L* for CLAHE is computed
 * in TypeScript (it must feed the CPU histogram step anyway); the full per-pixel colour
 * round trip is tfjs ops, which run on the GPU in the browser.
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

/**
 * L* of CIELAB scaled to 0..255 and rounded (OpenCV's 8-bit Lab convention) for every
 * pixel of an interleaved RGB float image in 0..255.
 */
export function lightness8(rgb: Float32Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = srgbToLinear(Math.min(1, Math.max(0, rgb[i * 3] / 255)));
    const g = srgbToLinear(Math.min(1, Math.max(0, rgb[i * 3 + 1] / 255)));
    const b = srgbToLinear(Math.min(1, Math.max(0, rgb[i * 3 + 2] / 255)));
    const y = RGB2XYZ[3] * r + RGB2XYZ[4] * g + RGB2XYZ[5] * b;
    const L = y > EPS ? 116 * Math.cbrt(y) - 16 : KAPPA * y;
    out[i] = Math.min(255, Math.max(0, Math.round((L * 255) / 100)));
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
