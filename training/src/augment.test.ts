import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_AUGMENT, augment, augmentBatch, sampleAugmentParams, type AugmentParams } from './augment';
import { Rng } from './pipeline/rng';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const S = 32;
/** a fundus-like test batch: bright disc on black, with a gradient inside so flips are visible. */
function discBatch(b: number): tf.Tensor4D {
  const data = new Float32Array(b * S * S * 3);
  for (let n = 0; n < b; n++) {
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const inside = (x - 15.5) ** 2 + (y - 15.5) ** 2 < 14 ** 2;
        for (let c = 0; c < 3; c++) data[((n * S + y) * S + x) * 3 + c] = inside ? 0.2 + (0.6 * x) / S + 0.1 * c + 0.05 * n : 0;
      }
    }
  }
  return tf.tensor4d(data, [b, S, S, 3]);
}

const identity: AugmentParams = { rotation: 0, shiftX: 0, shiftY: 0, flip: false, mirror: false, brightness: 1, gamma: 1, blurSigma: 0 };

describe('augmentation', () => {
  it('keeps shape and range [0, 1], and leaves the black border black under photometric jitter', () => {
    const x = discBatch(4);
    const y = augment(x, new Rng(3));
    expect(y.shape).toEqual([4, S, S, 3]);
    const v = y.dataSync();
    let min = Infinity;
    let max = -Infinity;
    for (const a of v) {
      min = Math.min(min, a);
      max = Math.max(max, a);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThanOrEqual(1);
    expect(v.every(Number.isFinite)).toBe(true);
    // brightness/gamma only: the corner stays exactly 0
    const photo = augmentBatch(x, [0, 1, 2, 3].map(() => ({ ...identity, brightness: 1.15, gamma: 0.8 })));
    expect(photo.dataSync()[0]).toBe(0);
    tf.dispose([x, y, photo]);
  });

  it('is seeded: same seed → identical output, different seed → different output', () => {
    const x = discBatch(3);
    const a = augment(x, new Rng(42));
    const b = augment(x, new Rng(42));
    const c = augment(x, new Rng(43));
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(tf.max(tf.abs(tf.sub(a, c))).dataSync()[0]).toBeGreaterThan(0.01);
    expect(sampleAugmentParams(new Rng(7), 5, 512)).toEqual(sampleAugmentParams(new Rng(7), 5, 512));
    tf.dispose([x, a, b, c]);
  });

  it('identity parameters return the input; mirror and flip are exact reversals', () => {
    const x = discBatch(1);
    const id = augmentBatch(x, [identity]);
    expect(tf.max(tf.abs(tf.sub(id, x))).dataSync()[0]).toBeLessThan(1e-6);
    const m = augmentBatch(x, [{ ...identity, mirror: true }]);
    expect(tf.max(tf.abs(tf.sub(m, tf.reverse(x, 2)))).dataSync()[0]).toBeLessThan(1e-6);
    const f = augmentBatch(x, [{ ...identity, flip: true }]);
    expect(tf.max(tf.abs(tf.sub(f, tf.reverse(x, 1)))).dataSync()[0]).toBeLessThan(1e-6);
    // 90° rotation moves the left-right gradient to top-bottom
    const r = augmentBatch(x, [{ ...identity, rotation: Math.PI / 2 }]);
    const colDiff = tf.tidy(() => tf.sub(tf.mean(tf.slice(r, [0, 24, 8, 0], [1, 4, 16, 3])), tf.mean(tf.slice(r, [0, 4, 8, 0], [1, 4, 16, 3]))).dataSync()[0]);
    expect(Math.abs(colDiff)).toBeGreaterThan(0.2);
    tf.dispose([x, id, m, f, r]);
  });

  it('blur and shift change the image but keep total brightness roughly (blur) / move content (shift)', () => {
    const x = discBatch(1);
    const bl = augmentBatch(x, [{ ...identity, blurSigma: 0.8 }]);
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(bl, x))).dataSync()[0]);
    expect(d).toBeGreaterThan(0.01);
    const ratio = tf.tidy(() => tf.sum(bl).dataSync()[0] / tf.sum(x).dataSync()[0]);
    expect(ratio).toBeGreaterThan(0.97);
    expect(ratio).toBeLessThan(1.03);
    const sh = augmentBatch(x, [{ ...identity, shiftX: 3 }]);
    // content moved right by 3 px: output column 10 = input column 7
    const a = tf.tidy(() => Array.from(tf.slice(sh, [0, 16, 10, 0], [1, 1, 1, 3]).dataSync()));
    const e = tf.tidy(() => Array.from(tf.slice(x, [0, 16, 7, 0], [1, 1, 1, 3]).dataSync()));
    a.forEach((v, i) => expect(v).toBeCloseTo(e[i], 5));
    tf.dispose([x, bl, sh]);
  });

  it('respects the option ranges and releases every tensor', () => {
    const ps = sampleAugmentParams(new Rng(1), 200, 512);
    for (const p of ps) {
      expect(Math.abs(p.rotation)).toBeLessThanOrEqual((DEFAULT_AUGMENT.maxRotationDeg * Math.PI) / 180 + 1e-12);
      expect(Math.abs(p.shiftX)).toBeLessThanOrEqual(DEFAULT_AUGMENT.maxShift * 512);
      expect(p.brightness).toBeGreaterThanOrEqual(DEFAULT_AUGMENT.brightness[0]);
      expect(p.gamma).toBeLessThanOrEqual(DEFAULT_AUGMENT.gamma[1] + 1e-12);
      expect(p.blurSigma).toBeLessThanOrEqual(DEFAULT_AUGMENT.maxBlurSigma);
    }
    const flips = ps.filter((p) => p.mirror).length;
    expect(flips).toBeGreaterThan(70);
    expect(flips).toBeLessThan(130);
    const x = discBatch(2);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) augment(x, new Rng(i), { ...DEFAULT_AUGMENT, blurProb: 1 }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
