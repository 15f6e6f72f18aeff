import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildCompactResNet } from '../../src/core/model/index';
import { BACKEND_CHOICES, pickBackend, registerFastBatchNormGradient, withoutImageGradient } from './backend';

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

describe('withoutImageGradient', () => {
  it('leaves every weight gradient unchanged and only skips the (discarded) image gradient', () => {
    const net = buildCompactResNet({ inputSize: 32, width: 4, blocks: [1, 1], seed: 2 });
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 9);
    const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
    const loss = () => tf.sum(tf.square(net.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar;
    const grads = () => {
      const { value, grads } = tf.variableGrads(loss, vars);
      const out = vars.map((v) => Array.from(grads[v.name].dataSync()));
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const ref = grads();
    const fast = withoutImageGradient(x.shape, grads);
    expect(fast).toEqual(ref);
    expect(ref.some((g) => g.some((v) => Math.abs(v) > 1e-6))).toBe(true);
    // inside, the image gradient is skipped (zeros); outside it is real again
    const gx = (inside: boolean) =>
      tf.tidy(() => {
        const f = () => tf.grad((xx: tf.Tensor) => tf.sum(net.apply(xx, { training: false }) as tf.Tensor))(x);
        return Math.max(...Array.from((inside ? withoutImageGradient(x.shape, f) : f()).dataSync()).map(Math.abs));
      });
    expect(gx(true)).toBe(0);
    expect(gx(false)).toBeGreaterThan(0);
    net.dispose();
    x.dispose();
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
