/**
 * Training-time augmentation on PREPROCESSED model-size tensors (after FOV crop, CLAHE and resize,
 * so augmentation never has to know about photo geometry). Paper II.B: random shift, rotation,
 * flip and mirror; plus mild brightness / contrast (gamma) / blur jitter for camera variety.
 *
 * Design choices:
 * - Photometric jitter is multiplicative (brightness) and a gamma curve (contrast), both of which
 *   keep black at black: the area outside the FOV is 0 at serving time and must stay 0 here.
 * - Geometry is one projective transform per image (tf.image.transform, available on cpu and wasm)
 *   with constant-0 fill, so rotated corners are black like the real background.
 * - Blur is capped well under 1 px: microaneurysms are 2–3 px at 512², stronger blur would teach
 *   the network that an invisible lesion is present.
 * - All randomness comes from the caller's seeded {@link Rng}: same seed, same augmentations.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from './pipeline/rng';

export interface AugmentOptions {
  /** maximum absolute rotation, degrees. */
  maxRotationDeg: number;
  /** maximum absolute shift as a fraction of the image side. */
  maxShift: number;
  /** probability of a vertical flip. */
  flipProb: number;
  /** probability of a horizontal mirror (left eye <-> right eye). */
  mirrorProb: number;
  /** multiplicative brightness range. */
  brightness: [number, number];
  /** gamma range (contrast-like; < 1 brightens mid-tones, > 1 darkens them). */
  gamma: [number, number];
  /** probability that an image gets blurred. */
  blurProb: number;
  /** maximum Gaussian sigma in pixels (of the model input). */
  maxBlurSigma: number;
}

export const DEFAULT_AUGMENT: AugmentOptions = {
  maxRotationDeg: 25,
  maxShift: 0.05,
  flipProb: 0.5,
  mirrorProb: 0.5,
  brightness: [0.85, 1.15],
  gamma: [0.8, 1.25],
  blurProb: 0.2,
  maxBlurSigma: 0.8,
};

/** The random draws for one image: plain numbers, so tests and logs can inspect them. */
export interface AugmentParams {
  rotation: number; // radians
  shiftX: number; // pixels
  shiftY: number;
  flip: boolean;
  mirror: boolean;
  brightness: number;
  gamma: number;
  blurSigma: number; // 0 = no blur
}

/** Draws n parameter sets; consumes a fixed number of random values per image (repeatable). */
export function sampleAugmentParams(rng: Rng, n: number, size: number, o: AugmentOptions = DEFAULT_AUGMENT): AugmentParams[] {
  const out: AugmentParams[] = [];
  for (let i = 0; i < n; i++) {
    const rotation = (rng.uniform(-1, 1) * o.maxRotationDeg * Math.PI) / 180;
    const shiftX = rng.uniform(-1, 1) * o.maxShift * size;
    const shiftY = rng.uniform(-1, 1) * o.maxShift * size;
    const flip = rng.next() < o.flipProb;
    const mirror = rng.next() < o.mirrorProb;
    const brightness = rng.uniform(o.brightness[0], o.brightness[1]);
    // gamma drawn log-uniformly so brightening and darkening are equally likely
    const gamma = Math.exp(rng.uniform(Math.log(o.gamma[0]), Math.log(o.gamma[1])));
    const blurDraw = rng.next();
    const sigmaDraw = rng.next();
    const blurSigma = blurDraw < o.blurProb ? 0.3 + sigmaDraw * Math.max(0, o.maxBlurSigma - 0.3) : 0;
    out.push({ rotation, shiftX, shiftY, flip, mirror, brightness, gamma, blurSigma });
  }
  return out;
}

/** Row of tf.image.transform: maps OUTPUT pixel (x, y) to the INPUT pixel it samples. */
export function transformRow(p: AugmentParams, width: number, height: number): number[] {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const c = Math.cos(p.rotation);
  const s = Math.sin(p.rotation);
  const fx = p.mirror ? -1 : 1;
  const fy = p.flip ? -1 : 1;
  // p_in = M (p_out − c) + c − shift, M = R(θ) · diag(fx, fy)
  const a0 = c * fx;
  const a1 = -s * fy;
  const b0 = s * fx;
  const b1 = c * fy;
  const a2 = cx - p.shiftX - a0 * cx - a1 * cy;
  const b2 = cy - p.shiftY - b0 * cx - b1 * cy;
  return [a0, a1, a2, b0, b1, b2, 0, 0];
}

function gaussianKernel(sigma: number): tf.Tensor4D {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k: number[] = [];
  let sum = 0;
  for (let i = -r; i <= r; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    k.push(v);
    sum += v;
  }
  const n = k.map((v) => v / sum);
  const size = 2 * r + 1;
  const data = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let ch = 0; ch < 3; ch++) data[(y * size + x) * 3 + ch] = n[y] * n[x];
    }
  }
  return tf.tensor4d(data, [size, size, 3, 1]);
}

/**
 * Applies the given parameters to a batch [b, S, S, 3] of values in [0, 1]. Returns a new tensor
 * (caller disposes); the input is not disposed. Output stays in [0, 1] with the same shape.
 */
export function augmentBatch(x: tf.Tensor4D, params: AugmentParams[]): tf.Tensor4D {
  const [b, h, w] = x.shape;
  if (params.length !== b) throw new Error(`augmentBatch: ${params.length} parameter sets for a batch of ${b}`);
  return tf.tidy(() => {
    const rows = params.map((p) => transformRow(p, w, h));
    const geo = tf.image.transform(x, tf.tensor2d(rows, [b, 8]), 'bilinear', 'constant', 0);
    const bright = tf.tensor4d(params.map((p) => p.brightness), [b, 1, 1, 1]);
    const gamma = tf.tensor4d(params.map((p) => p.gamma), [b, 1, 1, 1]);
    // x^γ as exp(γ·log x): wasm's broadcasting Pow is ~6× slower than Log+Mul+Exp. Clip first:
    // bilinear sampling can undershoot 0 by rounding; log(0) = −inf and exp(−inf) = 0 keeps black black.
    const powed = tf.exp(tf.mul(gamma, tf.log(tf.clipByValue(geo, 0, 1))));
    let y: tf.Tensor4D = tf.clipByValue(tf.mul(powed, bright), 0, 1) as tf.Tensor4D;
    if (params.some((p) => p.blurSigma > 0)) {
      const parts = tf.split(y, b, 0).map((img, i) => {
        const sigma = params[i].blurSigma;
        if (sigma <= 0) return img;
        return tf.depthwiseConv2d(img as tf.Tensor4D, gaussianKernel(sigma), 1, 'same');
      });
      y = tf.concat(parts, 0) as tf.Tensor4D;
    }
    return y;
  });
}

/** Convenience: draw parameters from rng and apply them. */
export function augment(x: tf.Tensor4D, rng: Rng, o: AugmentOptions = DEFAULT_AUGMENT): tf.Tensor4D {
  return augmentBatch(x, sampleAugmentParams(rng, x.shape[0], x.shape[1], o));
}
