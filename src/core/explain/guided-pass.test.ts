import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCompactResNet, GRADCAM_LAYER_DEFAULT } from '../model/builders';
import { buildPrefix, buildTail, prepareBatchNorm, releaseBatchNorm } from '../model/graph';
import { guidedBackprop, guidedSaliencyMaps } from './guided-backprop';
import { guidedBackwardFromRecord, guidedHeadSeeds, guidedSaliencyRecorded, recordFeatures } from './guided-pass';
import { logitTargets } from './targets';
import { randomiseBatchNorm, relDiff } from '../tensor.test-fixtures';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function split(net: tf.LayersModel, at: string) {
  return { features: buildPrefix(net, at, `${net.name}_f`), head: buildTail(net, at, `${net.name}_h`) };
}

/**
 * Every other rule of the hand-written backward: ZeroPadding2D, a Conv2D with a fused ReLU and 'valid' padding,
 * Activation('relu'), Dropout, a max-pool with 'valid' padding, and an Add whose inputs share a tensor.
 */
function otherLayersNet(size: number): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 3], name: 'image' });
  let x = tf.layers.zeroPadding2d({ padding: [[1, 2], [2, 1]], name: 'pad' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ name: 'c1', filters: 6, kernelSize: 3, strides: 2, padding: 'valid', activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: 1 }) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ name: 'p1', poolSize: 2, strides: 2, padding: 'valid' }).apply(x) as tf.SymbolicTensor;
  const y = tf.layers.conv2d({ name: 'c2', filters: 6, kernelSize: 3, padding: 'same', useBias: true, biasInitializer: 'ones', kernelInitializer: tf.initializers.heNormal({ seed: 2 }) }).apply(x) as tf.SymbolicTensor;
  const z = tf.layers.dropout({ rate: 0.5, name: 'drop' }).apply(y) as tf.SymbolicTensor;
  let a = tf.layers.add({ name: 'sum' }).apply([x, z, x]) as tf.SymbolicTensor;
  a = tf.layers.activation({ activation: 'relu', name: 'A' }).apply(a) as tf.SymbolicTensor;
  const h = tf.layers.conv2d({ name: 'h1', filters: 12, kernelSize: 1, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: 3 }) }).apply(a) as tf.SymbolicTensor;
  const o = tf.layers.conv2d({ name: 'h2', filters: 3, kernelSize: 1, kernelInitializer: tf.initializers.heNormal({ seed: 4 }) }).apply(h) as tf.SymbolicTensor;
  const logits = tf.layers.globalAveragePooling2d({ name: 'logits' }).apply(o) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'others' });
}

describe('guided backprop from one recorded forward (recordFeatures + guidedBackwardFromRecord)', () => {
  it('the record reproduces features.apply exactly, keeps only ReLU outputs and max-pool tensors, and disposes all', async () => {
    const net = buildCompactResNet({ inputSize: 48, width: 4, numLabels: 5, headWidth: 8, headMid: 8, seed: 3 });
    randomiseBatchNorm(net, 100);
    const { features } = split(net, GRADCAM_LAYER_DEFAULT);
    const x = tf.randomUniform([1, 48, 48, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const ref = features.apply(x, { training: false }) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    // made inside a tidy: its tensors must survive it
    let made: ReturnType<typeof recordFeatures> = null;
    tf.tidy(() => {
      made = recordFeatures(features, x);
    });
    const rec = made!;
    expect(rec).not.toBeNull();
    expect(Array.from(await rec.output.data())).toEqual(Array.from(await ref.data()));
    // compact net: stem ReLU (also the pool's input) + pool output + 2 ReLUs per basic block × 4 blocks; the
    // last ReLU is the output itself
    expect(tf.memory().numTensors - before).toBe(1 + 1 + 8);
    expect(rec.keptBytes).toBeGreaterThan(0);
    rec.dispose();
    rec.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => guidedBackwardFromRecord(rec, tf.zeros([1, 2, 2, 32]) as tf.Tensor4D)).toThrow(/disposed/);
    tf.dispose([x, ref]);
    net.dispose();
  });

  it('equals guidedBackprop() of the whole net: full gradient and channel sum, even and odd sizes, BN prepared or not, no leaks', async () => {
    for (const size of [32, 37]) {
      const net = buildCompactResNet({ inputSize: size, width: 4, numLabels: 5, headWidth: 8, headMid: 8, seed: 6 });
      randomiseBatchNorm(net, size);
      const { features, head } = split(net, GRADCAM_LAYER_DEFAULT);
      const x = tf.randomUniform([1, size, size, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
      const targets = logitTargets([0, 1, 3]);
      const ref = guidedBackprop(net, x, targets);
      const refSum = tf.sum(ref, 3);
      for (const prepared of [false, true]) {
        if (prepared) prepareBatchNorm(net);
        const before = tf.memory().numTensors;
        const rec = recordFeatures(features, x)!;
        expect(rec.channelSumAvailable).toBe(true);
        const seeds = guidedHeadSeeds(head, rec.output, targets);
        expect(seeds.shape).toEqual([3, ...rec.output.shape.slice(1)]);
        const full = guidedBackwardFromRecord(rec, seeds);
        expect(await relDiff(full, ref), `size ${size}`).toBeLessThan(1e-5);
        const sums = guidedBackwardFromRecord(rec, seeds, true);
        expect(sums.shape).toEqual([3, size, size, 1]);
        expect(await relDiff(tf.squeeze(sums, [3]), refSum), `size ${size} Σc`).toBeLessThan(1e-5);
        tf.dispose([seeds, full, sums]);
        rec.dispose();
        // tf.squeeze above made one more tensor; nothing else may remain
        expect(tf.memory().numTensors - before).toBeLessThanOrEqual(1);
        if (prepared) releaseBatchNorm(net);
      }
      tf.dispose([x, ref, refSum]);
      net.dispose();
    }
  });

  it('covers ZeroPadding2D, fused-ReLU and valid convolutions, Activation, Dropout, valid max-pool and a 3-way Add', async () => {
    const net = otherLayersNet(29);
    const { features, head } = split(net, 'A');
    const x = tf.randomUniform([1, 29, 29, 3], -1, 1, 'float32', 7) as tf.Tensor4D;
    const targets = logitTargets([2, 0]);
    const ref = guidedBackprop(net, x, targets);
    const rec = recordFeatures(features, x)!;
    expect(rec).not.toBeNull();
    // the input is read by ZeroPadding2D, not a convolution: no channel-sum shortcut
    expect(rec.channelSumAvailable).toBe(false);
    const seeds = guidedHeadSeeds(head, rec.output, targets);
    const got = guidedBackwardFromRecord(rec, seeds);
    expect(await relDiff(got, ref)).toBeLessThan(1e-5);
    expect(() => guidedBackwardFromRecord(rec, seeds, true)).toThrow(/one Conv2D/);
    tf.dispose([x, ref, seeds, got]);
    rec.dispose();
    net.dispose();
  });

  it('guidedSaliencyRecorded equals guidedSaliencyMaps (signed, mixed and unsigned maps; in passes of one)', async () => {
    const net = buildCompactResNet({ inputSize: 32, width: 4, numLabels: 5, headWidth: 8, headMid: 8, seed: 7 });
    randomiseBatchNorm(net, 9);
    const { features, head } = split(net, GRADCAM_LAYER_DEFAULT);
    const x = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 12) as tf.Tensor4D;
    const targets = logitTargets([0, 2]);
    const rec = recordFeatures(features, x)!;
    for (const contrast of [['dark', 'bright'] as const, ['dark', null] as const, undefined]) {
      for (const labelsPerPass of [undefined, 1]) {
        const before = tf.memory().numTensors;
        const ref = guidedSaliencyMaps(net, x, targets, contrast);
        const got = guidedSaliencyRecorded(rec, head, targets, contrast, { labelsPerPass });
        expect(got.shape).toEqual([2, 32, 32]);
        expect(await relDiff(got, ref), `${String(contrast)} ${labelsPerPass}`).toBeLessThan(1e-5);
        tf.dispose([ref, got]);
        expect(tf.memory().numTensors).toBe(before);
      }
    }
    const none = guidedSaliencyRecorded(rec, head, [], []);
    expect(none.shape).toEqual([0, 32, 32]);
    none.dispose();
    expect(() => guidedSaliencyRecorded(rec, head, targets, ['dark'])).toThrow(/1 contrasts for 2 targets/);
    x.dispose();
    rec.dispose();
    net.dispose();
  });

  it('a max-pool that reads the model input: the caller\'s input is used, never kept or disposed by the record', async () => {
    const input = tf.input({ shape: [10, 10, 3], name: 'image' });
    let a = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool' }).apply(input) as tf.SymbolicTensor;
    a = tf.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same', activation: 'relu', name: 'A', kernelInitializer: tf.initializers.heNormal({ seed: 8 }) }).apply(a) as tf.SymbolicTensor;
    const logits = tf.layers.globalAveragePooling2d({ name: 'logits' }).apply(
      tf.layers.conv2d({ filters: 2, kernelSize: 1, name: 'h', kernelInitializer: tf.initializers.heNormal({ seed: 9 }) }).apply(a) as tf.SymbolicTensor,
    ) as tf.SymbolicTensor;
    const net = tf.model({ inputs: input, outputs: logits });
    const { features, head } = split(net, 'A');
    const x = tf.randomUniform([1, 10, 10, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const targets = logitTargets([0, 1]);
    const ref = guidedBackprop(net, x, targets);
    const rec = recordFeatures(features, x)!;
    expect(rec.channelSumAvailable).toBe(false);
    const seeds = guidedHeadSeeds(head, rec.output, targets);
    const got = guidedBackwardFromRecord(rec, seeds);
    expect(await relDiff(got, ref)).toBeLessThan(1e-5);
    rec.dispose();
    expect(x.isDisposed).toBe(false);
    tf.dispose([x, ref, seeds, got]);
    net.dispose();
  });

  it('returns null (the caller keeps the tf.grad path) for a layer it has no rule for', () => {
    const input = tf.input({ shape: [16, 16, 3] });
    const c = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(input) as tf.SymbolicTensor;
    const p = tf.layers.averagePooling2d({ poolSize: 2, name: 'avg' }).apply(c) as tf.SymbolicTensor;
    const features = tf.model({ inputs: input, outputs: p });
    const x = tf.zeros([1, 16, 16, 3]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    expect(recordFeatures(features, x)).toBeNull();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => recordFeatures(features, tf.zeros([2, 16, 16, 3]) as tf.Tensor4D)).toThrow(/batch 1/);
    x.dispose();
    features.dispose();
  });
});
