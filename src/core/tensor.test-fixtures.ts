/**
 * Tensor helpers shared by core's tests (not shipped code: nothing imports this outside *.test.ts).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * max |a − b| ÷ max |b|: the relative error of a whole tensor. Throws when the shapes differ or `b` is all zero
 * (a relative error against nothing would pass any test).
 */
export async function relDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  if (a.shape.join('x') !== b.shape.join('x')) throw new Error(`relDiff: shapes [${a.shape}] and [${b.shape}] differ`);
  const [x, y] = [await a.data(), await b.data()];
  let d = 0, m = 0;
  for (let i = 0; i < x.length; i++) {
    d = Math.max(d, Math.abs(x[i] - y[i]));
    m = Math.max(m, Math.abs(y[i]));
  }
  if (!(m > 0)) throw new Error('relDiff: the reference is all zero');
  return d / m;
}

/** max |a − b| over two arrays of the same length (throws when the lengths differ). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths ${a.length} and ${b.length} differ`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Gives every BatchNormalization of `net` random γ, β, μ and σ², so that a BN handled wrongly shows in a test. */
export function randomiseBatchNorm(net: tf.LayersModel, seed: number): void {
  let s = seed;
  tf.tidy(() => {
    for (const layer of net.layers) {
      if (layer.getClassName() !== 'BatchNormalization') continue;
      const n = layer.getWeights()[0].shape[0];
      layer.setWeights([
        tf.randomUniform([n], 0.5, 1.5, 'float32', s++),
        tf.randomUniform([n], -0.3, 0.3, 'float32', s++),
        tf.randomUniform([n], -0.2, 0.2, 'float32', s++),
        tf.randomUniform([n], 0.3, 2, 'float32', s++),
      ]);
    }
  });
}
