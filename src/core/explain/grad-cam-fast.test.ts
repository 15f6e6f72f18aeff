/**
 * The window-sum Grad-CAM weights (grad-cam-fast.ts) must equal core's full-gradient Grad-CAM
 * to float rounding, including at the borders ('same' padding, even and odd kernels, non-square
 * grids), and must decline heads where the identity does not hold.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { gradCamFromFeatures, gradCamFromFeaturesFull } from './grad-cam';
import { logitTargets } from './targets';
import { buildCompactResNet } from '../model/builders';
import { wrapModel } from '../model/fundus-model';
import { makeMetadata } from '../model/metadata';
import { gradCamWeightsFast, headForwardKeepingZ } from './grad-cam-fast';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function head(h: number, w: number, k: number, kernel: number, o: { activation?: 'linear' | 'relu'; strides?: number } = {}): tf.LayersModel {
  const a = tf.input({ shape: [h, w, k] });
  let x = tf.layers
    .conv2d({ filters: 6, kernelSize: kernel, padding: 'same', useBias: true, activation: o.activation ?? 'linear', strides: o.strides ?? 1, kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }), biasInitializer: tf.initializers.randomNormal({ seed: 4 }) })
    .apply(a) as tf.SymbolicTensor;
  x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 3, kernelSize: 1, useBias: true, kernelInitializer: tf.initializers.glorotNormal({ seed: 5 }) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: a, outputs: tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor });
}

async function maxDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [x, y] = [await a.data(), await b.data()];
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  return d;
}

describe('window-sum Grad-CAM weights', () => {
  it('equal the mean of the full input gradient for odd and even kernels on a non-square grid', async () => {
    for (const kernel of [1, 3, 4, 5]) {
      const hd = head(7, 5, 4, kernel);
      const a = tf.randomUniform([1, 7, 5, 4], 0, 2, 'float32', kernel) as tf.Tensor4D;
      const targets = logitTargets([0, 1, 2]);
      const ref = gradCamFromFeaturesFull(hd, a, targets, 16);
      const before = tf.memory().numTensors;
      const fast = gradCamFromFeatures(hd, a, targets, 16);
      const probe = gradCamWeightsFast(hd, a, targets);
      expect(probe, `kernel ${kernel}: fast path taken`).not.toBeNull();
      probe!.dispose();
      expect(tf.memory().numTensors - before).toBe(2); // cams + peaks, nothing else
      expect(await maxDiff(fast.peaks, ref.peaks), `kernel ${kernel}`).toBeLessThan(1e-5);
      expect(await maxDiff(fast.cams, ref.cams), `kernel ${kernel}`).toBeLessThan(1e-5);
      // the weights themselves against eq. 1 computed from the full gradient
      const full = tf.grad((x: tf.Tensor) => tf.sum(tf.slice(hd.apply(x) as tf.Tensor2D, [0, 1], [1, 1])))(a);
      const w = gradCamWeightsFast(hd, a, logitTargets([1]))!;
      expect(await maxDiff(w, tf.mean(full, [1, 2])), `kernel ${kernel}`).toBeLessThan(1e-6);
      tf.dispose([a, ref.cams, ref.peaks, fast.cams, fast.peaks, full, w]);
      hd.dispose();
    }
  });

  it('matches core on a compact ResNet with the paper head (3×3 first conv), and leaves nothing behind once the model is disposed', async () => {
    const baseline = tf.memory().numTensors;
    const net = buildCompactResNet({ inputSize: 64, width: 4, blocks: [1, 1], headWidth: 8, headMid: 8, numLabels: 5, seed: 21 });
    const m = wrapModel(net, makeMetadata({ inputSize: 64 }));
    const x = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const a = m.features.apply(x) as tf.Tensor4D;
    const targets = logitTargets([0, 1, 2, 3, 4]);
    const ref = gradCamFromFeaturesFull(m.head, a, targets, 64);
    const fast = gradCamFromFeatures(m.head, a, targets, 64);
    expect(await maxDiff(fast.cams, ref.cams)).toBeLessThan(1e-5);
    const again = gradCamFromFeatures(m.head, a, targets, 64); // a second call must still see live weights
    expect(await maxDiff(again.cams, ref.cams)).toBeLessThan(1e-5);
    tf.dispose([x, a, ref.cams, ref.peaks, fast.cams, fast.peaks, again.cams, again.peaks]);
    m.dispose();
    // a tail cached across calls would keep the head's shared layers (and their weights) alive
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('declines heads where the identity does not hold (fused activation, stride 2)', () => {
    const a = tf.randomUniform([1, 6, 6, 4]) as tf.Tensor4D;
    for (const o of [{ activation: 'relu' as const }, { strides: 2 }]) {
      const hd = head(6, 6, 4, 3, o);
      expect(gradCamWeightsFast(hd, a, logitTargets([0]))).toBeNull();
      hd.dispose();
    }
    a.dispose();
  });
});

describe('headForwardKeepingZ: one pass through the head serves the logits and the Grad-CAM', () => {
  it('gives the logits of head.apply to the bit, and a z that changes nothing in the maps', async () => {
    for (const kernel of [1, 3, 4]) {
      const hd = head(7, 5, 4, kernel);
      const a = tf.randomUniform([1, 7, 5, 4], 0, 2, 'float32', 10 + kernel) as tf.Tensor4D;
      const targets = logitTargets([0, 1, 2]);
      const before = tf.memory().numTensors;
      const split = headForwardKeepingZ(hd, a)!;
      expect(split, `kernel ${kernel}`).not.toBeNull();
      // z, the logits and the tail's one ReLU output (tail-pass.ts), nothing else
      expect(split.tensors.length).toBe(3);
      expect(tf.memory().numTensors - before).toBe(3);
      const ref = hd.apply(a) as tf.Tensor2D;
      expect(Array.from(await split.logits.data())).toEqual(Array.from(await ref.data()));
      expect(split.z.shape).toEqual([1, 7, 5, 6]);
      const withZ = gradCamFromFeatures(hd, a, targets, 16, split.z);
      const without = gradCamFromFeatures(hd, a, targets, 16);
      expect(await maxDiff(withZ.cams, without.cams), `kernel ${kernel}`).toBeLessThan(1e-6);
      expect(split.z.isDisposed).toBe(false); // the caller's
      tf.dispose([a, ref, ...split.tensors, withZ.cams, withZ.peaks, without.cams, without.peaks]);
      hd.dispose();
    }
  });

  it('is null where the fast path does not apply (a fused activation in the first convolution)', () => {
    const hd = head(6, 6, 4, 3, { activation: 'relu' });
    const a = tf.randomUniform([1, 6, 6, 4]) as tf.Tensor4D;
    expect(headForwardKeepingZ(hd, a)).toBeNull();
    a.dispose();
    hd.dispose();
  });
});
