import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_CHOICES, pickBackend, registerFastBatchNormGradient } from './backend';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** gradients of a scalar through batch-norm with batch statistics (as BatchNormalization trains). */
function bnGrads(seed: number): number[][] {
  return tf.tidy(() => {
    const x = tf.randomNormal([3, 5, 4, 6], 0.5, 2, 'float32', seed);
    const gamma = tf.randomUniform([6], 0.5, 1.5, 'float32', seed + 1);
    const beta = tf.randomUniform([6], -1, 1, 'float32', seed + 2);
    const w = tf.randomNormal([3, 5, 4, 6], 0, 1, 'float32', seed + 3);
    const f = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(xx, [0, 1, 2]);
      return tf.sum(tf.mul(tf.batchNorm(xx, mean, variance, b, g, 1e-3), w));
    };
    const grads = tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)([x, gamma, beta]);
    return grads.map((t) => Array.from(t.dataSync()));
  });
}

describe('registerFastBatchNormGradient', () => {
  it('gives the same gradients as tfjs’ own FusedBatchNorm gradient (x through batch moments, scale, offset)', () => {
    const ref = [bnGrads(1), bnGrads(2)];
    registerFastBatchNormGradient();
    registerFastBatchNormGradient(); // idempotent
    const fast = [bnGrads(1), bnGrads(2)];
    let worst = 0;
    ref.forEach((r, k) =>
      r.forEach((g, i) =>
        g.forEach((v, j) => {
          worst = Math.max(worst, Math.abs(v - fast[k][i][j]) / Math.max(1e-3, Math.abs(v)));
        }),
      ),
    );
    expect(worst).toBeLessThan(1e-4);
    // not vacuous: the gradients are non-trivial
    expect(Math.max(...ref[0][0].map(Math.abs))).toBeGreaterThan(1e-3);
  });

  it('does not leak tensors', () => {
    registerFastBatchNormGradient();
    bnGrads(3);
    const before = tf.memory().numTensors;
    bnGrads(4);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('pickBackend', () => {
  it('rejects unknown names and an unavailable forced native backend', async () => {
    await expect(pickBackend('gpu-please', () => {})).rejects.toThrow(/unknown --backend/);
    await expect(pickBackend('node', () => {})).rejects.toThrow(/not installed|failed/);
    expect(BACKEND_CHOICES).toContain('wasm');
  });

  it('falls back past the missing native packages, prints the choice, and honours --backend cpu', async () => {
    const lines: string[] = [];
    const auto = await pickBackend(undefined, (l) => lines.push(l));
    expect(['tensorflow', 'wasm']).toContain(auto);
    expect(lines.some((l) => l.includes(`using '${auto}'`))).toBe(true);
    expect(await pickBackend('cpu', () => {})).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });
});
