/**
 * The hand-written backward through the head's tail (tail-pass.ts) must give tf.grad's ∂y/∂z for every target,
 * from a batch-1 forward, and must decline tails it has no rule for.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTail } from '../model/graph';
import { randomiseBatchNorm, relDiff } from '../tensor.test-fixtures';
import { gradCamFromFeatures, gradCamFromFeaturesFull } from './grad-cam';
import { guidedSeedsFromZ, headForwardKeepingZ } from './grad-cam-fast';
import { guidedBackprop } from './guided-backprop';
import { guidedHeadSeeds } from './guided-pass';
import { hiResCamFromFeatures } from './hires-cam';
import { recordTail, tailGradient } from './tail-pass';
import { diagonalObjective, logitTargets, type ExplainTarget } from './targets';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const init = (seed: number) => ({ kernelInitializer: tf.initializers.glorotNormal({ seed }), biasInitializer: tf.initializers.randomNormal({ seed: seed + 1, stddev: 0.3 }) });

/** A head whose tail has every layer kind tail-pass covers: fused-ReLU and linear convs, BN, Activation, Dropout, ReLU, GAP. */
function richHead(h: number, w: number, k: number): tf.LayersModel {
  const a = tf.input({ shape: [h, w, k] });
  let x = tf.layers.conv2d({ name: 'first', filters: 6, kernelSize: 3, padding: 'same', ...init(1) }).apply(a) as tf.SymbolicTensor;
  x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'valid', activation: 'relu', ...init(3) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ axis: -1 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dropout({ rate: 0.5 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 4, kernelSize: 1, ...init(5) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'linear' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: a, outputs: tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor });
}

/** tf.grad through the tail on z tiled once per target: what gradientAtZ computed before the record. */
function reference(tail: tf.LayersModel, z: tf.Tensor4D, targets: readonly ExplainTarget[]): tf.Tensor {
  return tf.tidy(() => tf.grad((x: tf.Tensor) => diagonalObjective(tail.apply(x, { training: false }) as tf.Tensor2D, targets))(tf.tile(z, [targets.length, 1, 1, 1])));
}

describe('tail-pass: the head after its first convolution, forward once, backward for every target', () => {
  it('gives tf.grad’s ∂y/∂z for logit and generic targets, the logits of tail.apply to the bit, and leaks nothing', async () => {
    const hd = richHead(9, 7, 3);
    randomiseBatchNorm(hd, 11);
    const tail = buildTail(hd, 'first', 'tail');
    const z = tf.randomNormal([1, 9, 7, 6], 0, 1, 'float32', 4) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const rec = recordTail(tail, z)!;
    expect(rec).not.toBeNull();
    // 3 ReLU outputs (the ReLU layer, the fused conv, the Activation) + the logits
    expect(rec.tensors.length).toBe(4);
    expect(tf.memory().numTensors - before).toBe(4);
    const ref = tail.apply(z, { training: false }) as tf.Tensor;
    expect(Array.from(await rec.output.data())).toEqual(Array.from(await ref.data()));
    const logit = logitTargets([3, 0, 2, 3]);
    const generic: ExplainTarget[] = [
      { name: 'sum', labelIndex: 0, score: (l) => tf.sum(l, 1) as tf.Tensor1D },
      { name: 'neg1', labelIndex: 1, score: (l) => tf.neg(tf.squeeze(tf.slice(l, [0, 1], [-1, 1]), [1])) as tf.Tensor1D },
    ];
    for (const targets of [logit, generic]) {
      const mid = tf.memory().numTensors;
      const g = tailGradient(rec, targets)!;
      expect(tf.memory().numTensors - mid).toBe(1);
      const want = reference(tail, z, targets);
      expect(g.shape).toEqual([targets.length, 9, 7, 6]);
      expect(await relDiff(g, want), targets[0].name).toBeLessThan(1e-5);
      tf.dispose([g, want]);
    }
    tf.dispose([ref, ...rec.tensors]);
    expect(tf.memory().numTensors).toBe(before);
    // a record whose tensors were disposed is refused (the caller falls back to tf.grad)
    expect(tailGradient(rec, logit)).toBeNull();
    tf.dispose(z);
    tail.dispose();
    hd.dispose();
  });

  it('keeps the pooled gradient flat through 1×1 convolutions and BN, and broadcasts it where the grid matters', async () => {
    // Orders that take every branch of the flat [T, 1, 1, c] gradient: GAP then a 3×3 conv (broadcast first), GAP
    // then BN and a 1×1 conv (flat to the end), a 1×1 conv behind a ReLU mask (the matmul on T·h·w rows), GAP alone.
    const heads: [string, (i: tf.SymbolicTensor) => tf.SymbolicTensor][] = [
      ['3x3 after the pooling', (i) => {
        let x = tf.layers.conv2d({ filters: 4, kernelSize: 1, activation: 'relu', ...init(21) }).apply(i) as tf.SymbolicTensor;
        x = tf.layers.batchNormalization({ axis: -1 }).apply(x) as tf.SymbolicTensor;
        return tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', ...init(23) }).apply(x) as tf.SymbolicTensor;
      }],
      ['BN and 1x1 only', (i) => {
        const x = tf.layers.conv2d({ filters: 5, kernelSize: 1, ...init(25) }).apply(i) as tf.SymbolicTensor;
        return tf.layers.batchNormalization({ axis: -1 }).apply(x) as tf.SymbolicTensor;
      }],
      ['pooling alone', (i) => i],
    ];
    for (const [name, body] of heads) {
      const a = tf.input({ shape: [6, 5, 3] });
      const first = tf.layers.conv2d({ name: 'first', filters: 6, kernelSize: 3, padding: 'same', ...init(1) }).apply(a) as tf.SymbolicTensor;
      const hd = tf.model({ inputs: a, outputs: tf.layers.globalAveragePooling2d({}).apply(body(first)) as tf.SymbolicTensor });
      randomiseBatchNorm(hd, 7);
      const tail = buildTail(hd, 'first', 'tail');
      const z = tf.randomNormal([1, 6, 5, 6], 0, 1, 'float32', 8) as tf.Tensor4D;
      const rec = recordTail(tail, z)!;
      const labels = (tail.outputs[0].shape[1] as number);
      const targets = logitTargets(Array.from({ length: labels }, (_, j) => labels - 1 - j));
      const generic: ExplainTarget[] = [{ name: 'sum', labelIndex: 0, score: (l) => tf.sum(l, 1) as tf.Tensor1D }];
      for (const tg of [targets, generic]) {
        const g = tailGradient(rec, tg)!;
        const want = reference(tail, z, tg);
        expect(g.shape, name).toEqual([tg.length, 6, 5, 6]);
        expect(await relDiff(g, want), `${name}, ${tg[0].name}`).toBeLessThan(1e-5);
        tf.dispose([g, want]);
      }
      tf.dispose([z, ...rec.tensors]);
      tail.dispose();
      hd.dispose();
    }
  });

  it('serves Grad-CAM and HiResCAM through headForwardKeepingZ with the maps of the full gradient', async () => {
    const hd = richHead(8, 8, 5);
    randomiseBatchNorm(hd, 3);
    const a = tf.relu(tf.randomNormal([1, 8, 8, 5], 0, 1, 'float32', 9)) as tf.Tensor4D;
    const targets = logitTargets([0, 1, 2, 3]);
    const split = headForwardKeepingZ(hd, a)!;
    expect(split.tensors.length).toBe(5); // z + the record
    const full = gradCamFromFeaturesFull(hd, a, targets, 16);
    const gc = gradCamFromFeatures(hd, a, targets, 16, split.z);
    expect(await relDiff(gc.cams, full.cams)).toBeLessThan(1e-5);
    const hrPlain = hiResCamFromFeatures(hd, a, targets, 16);
    const hr = hiResCamFromFeatures(hd, a, targets, 16, split.z);
    expect(await relDiff(hr.cams, hrPlain.cams)).toBeLessThan(1e-5);
    tf.dispose([a, ...split.tensors, full.cams, full.peaks, gc.cams, gc.peaks, hr.cams, hr.peaks, hrPlain.cams, hrPlain.peaks]);
    hd.dispose();
  });

  it('gives guided backprop’s seeds (the guided rule at the tail’s ReLUs) with no forward pass', async () => {
    const hd = richHead(8, 6, 5);
    randomiseBatchNorm(hd, 5);
    const a = tf.relu(tf.randomNormal([1, 8, 6, 5], 0, 1, 'float32', 13)) as tf.Tensor4D;
    const targets = logitTargets([1, 3, 0]);
    const split = headForwardKeepingZ(hd, a)!;
    const want = guidedBackprop(hd, a, targets);
    const before = tf.memory().numTensors;
    const seeds = guidedSeedsFromZ(hd, a, targets, split.z)!;
    expect(tf.memory().numTensors - before).toBe(1);
    expect(seeds.shape).toEqual(want.shape);
    expect(await relDiff(seeds, want)).toBeLessThan(1e-5);
    // guided-pass takes this path when given z, and the tf.grad path without it: the same seeds
    const viaPass = guidedHeadSeeds(hd, a, targets, split.z);
    expect(await relDiff(viaPass, want)).toBeLessThan(1e-5);
    // the guided rule differs from the plain gradient here, so the comparison above tests it
    const plain = tf.tidy(() => tf.grad((x: tf.Tensor) => diagonalObjective(hd.apply(x) as tf.Tensor2D, targets.slice(0, 1)))(a));
    const seed0 = tf.slice(seeds, [0, 0, 0, 0], [1, -1, -1, -1]);
    expect(await relDiff(seed0, plain)).toBeGreaterThan(1e-3);
    // no record for a z that did not come from headForwardKeepingZ
    const other = tf.clone(split.z);
    expect(guidedSeedsFromZ(hd, a, targets, other)).toBeNull();
    tf.dispose([a, ...split.tensors, want, seeds, viaPass, plain, seed0, other]);
    hd.dispose();
  });

  it('declines tails it has no rule for: a Dense after Flatten, a branch, a capped ReLU', () => {
    const z = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    const input = () => tf.input({ shape: [4, 4, 3] });
    const flat = (() => {
      const i = input();
      return tf.model({ inputs: i, outputs: tf.layers.dense({ units: 2 }).apply(tf.layers.flatten().apply(i)) as tf.SymbolicTensor });
    })();
    const branch = (() => {
      const i = input();
      const p = tf.layers.conv2d({ filters: 3, kernelSize: 1 }).apply(i) as tf.SymbolicTensor;
      const q = tf.layers.add().apply([p, i]) as tf.SymbolicTensor;
      return tf.model({ inputs: i, outputs: tf.layers.globalAveragePooling2d({}).apply(q) as tf.SymbolicTensor });
    })();
    const capped = (() => {
      const i = input();
      const r = tf.layers.reLU({ maxValue: 6 }).apply(i) as tf.SymbolicTensor;
      return tf.model({ inputs: i, outputs: tf.layers.globalAveragePooling2d({}).apply(r) as tf.SymbolicTensor });
    })();
    const before = tf.memory().numTensors;
    for (const m of [flat, branch, capped]) expect(recordTail(m, z)).toBeNull();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(z);
    [flat, branch, capped].forEach((m) => m.dispose());
  });
});
