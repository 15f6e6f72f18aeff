/**
 * HiResCAM (Draelos & Carin 2020): equal to Grad-CAM when the head is linear up to the pool,
 * and different — following the head's own gating — when it is not; one entry point for both.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCompactResNet, GRADCAM_LAYER_DEFAULT } from '../model/builders';
import { buildPrefix, buildTail } from '../model/graph';
import { classMapsFromFeatures } from './class-maps';
import { gradCamFromFeatures, upsampleAndNormalise } from './grad-cam';
import { headForwardKeepingZ, headGradientFast } from './grad-cam-fast';
import { headGradientFull, hiResCamFromFeatures, hiResCamMaps } from './hires-cam';
import { relDiff } from '../tensor.test-fixtures';
import { logitTargets } from './targets';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const S = 8;

/** features = ReLU(x) (2 channels), head = `headLayers` → GAP. */
function model(head: (a: tf.SymbolicTensor) => tf.SymbolicTensor) {
  const input = tf.input({ shape: [S, S, 2], name: 'x' });
  const a = tf.layers.reLU({ name: 'A' }).apply(input) as tf.SymbolicTensor;
  const logits = tf.layers.globalAveragePooling2d({ name: 'logits' }).apply(head(a)) as tf.SymbolicTensor;
  const net = tf.model({ inputs: input, outputs: logits });
  return { net, features: buildPrefix(net, 'A', 'f'), head: buildTail(net, 'A', 'h') };
}

/** channel 0 = 1 on regions P (rows 0–2) and Q (rows 5–7); channel 1 = 1 on P only. */
function input(): tf.Tensor4D {
  const d = new Float32Array(S * S * 2);
  for (let j = 0; j < S; j++)
    for (let i = 0; i < S; i++) {
      const p = j < 3, q = j >= 5;
      if (p || q) d[(j * S + i) * 2] = 1;
      if (p) d[(j * S + i) * 2 + 1] = 1;
    }
  return tf.tensor4d(d, [1, S, S, 2]);
}

const rowsOf = async (t: tf.Tensor3D, k: number): Promise<number[][]> => ((await t.array()) as number[][][])[k];

describe('HiResCAM', () => {
  it('equals Grad-CAM when the head is linear up to the pool (the gradient is the same in every cell)', async () => {
    const m = model((a) =>
      tf.layers.conv2d({ name: 'head', filters: 2, kernelSize: 1, useBias: false, weights: [tf.tensor4d([1, -1, 0, 3], [1, 1, 2, 2])] }).apply(a) as tf.SymbolicTensor,
    );
    const x = input();
    const a = m.features.predict(x) as tf.Tensor4D;
    const g = gradCamFromFeatures(m.head, a, logitTargets([0, 1]), S);
    const before = tf.memory().numTensors;
    const h = hiResCamFromFeatures(m.head, a, logitTargets([0, 1]), S);
    expect(tf.memory().numTensors).toBe(before + 2); // cams + peaks, nothing else left behind
    expect(h.cams.shape).toEqual([2, S, S]);
    const [gd, hd] = [await g.cams.data(), await h.cams.data()];
    for (let i = 0; i < gd.length; i++) expect(hd[i]).toBeCloseTo(gd[i], 6);
    const [gp, hp] = [await g.peaks.data(), await h.peaks.data()];
    for (let i = 0; i < gp.length; i++) expect(hp[i]).toBeCloseTo(gp[i], 6);
    tf.dispose([x, a, g.cams, g.peaks, h.cams, h.peaks]);
  });

  it('follows a gated head: zero where the head ignored the channel, unlike Grad-CAM (closed form)', async () => {
    // head: z = ReLU(A0 + A1 − 1.5) → GAP. z > 0 on P only (1 + 1 − 1.5), so ∂y/∂A = 1/64 on P, 0 elsewhere.
    //   HiResCAM = ReLU(Σ_k ∂y/∂A^k ⊙ A^k) = 2/64 on P, 0 on Q and elsewhere.
    //   Grad-CAM: w_k = mean gradient = 24/64² for both channels -> w·A = 2w on P, w on Q (half the peak).
    const m = model((a) => {
      const conv = tf.layers.conv2d({ name: 'gate', filters: 1, kernelSize: 1, weights: [tf.tensor4d([1, 1], [1, 1, 2, 1]), tf.tensor1d([-1.5])] });
      return tf.layers.reLU({ name: 'gate_relu' }).apply(conv.apply(a)) as tf.SymbolicTensor;
    });
    const x = input();
    const a = m.features.predict(x) as tf.Tensor4D;
    const h = hiResCamFromFeatures(m.head, a, logitTargets([0]), S);
    const g = gradCamFromFeatures(m.head, a, logitTargets([0]), S);
    expect((await h.peaks.data())[0]).toBeCloseTo(2 / 64, 6);
    const hr = await rowsOf(h.cams, 0), gr = await rowsOf(g.cams, 0);
    for (let j = 0; j < S; j++)
      for (let i = 0; i < S; i++) {
        const want = j < 3 ? 1 : 0;
        expect(hr[j][i]).toBeCloseTo(want, 6);
        expect(gr[j][i]).toBeCloseTo(j < 3 ? 1 : j >= 5 ? 0.5 : 0, 6);
      }
    tf.dispose([x, a, h.cams, h.peaks, g.cams, g.peaks]);
  });

  it('classMapsFromFeatures dispatches by method on a random compact ResNet; rejects unknown methods and batches', async () => {
    const net = buildCompactResNet({ inputSize: 64, numLabels: 5, width: 8, blocks: [1, 1, 1, 1], seed: 3 });
    const features = buildPrefix(net, GRADCAM_LAYER_DEFAULT, 'f');
    const head = buildTail(net, GRADCAM_LAYER_DEFAULT, 'h');
    const x = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const a = features.predict(x) as tf.Tensor4D;
    const t = logitTargets([0, 1, 2, 3]);
    const before = tf.memory().numTensors;
    for (const [method, ref] of [['gradcam', gradCamFromFeatures], ['hirescam', hiResCamFromFeatures]] as const) {
      const got = classMapsFromFeatures(method, head, a, t, 64);
      const want = ref(head, a, t, 64);
      const [gd, wd] = [await got.cams.data(), await want.cams.data()];
      let diff = 0;
      for (let i = 0; i < gd.length; i++) diff = Math.max(diff, Math.abs(gd[i] - wd[i]));
      expect(diff).toBe(0);
      tf.dispose([got.cams, got.peaks, want.cams, want.peaks]);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(() => classMapsFromFeatures('cam++' as never, head, a, t, 64)).toThrow(/unknown class-activation method/);
    const two = tf.concat([a, a]) as tf.Tensor4D;
    expect(() => hiResCamFromFeatures(head, two, t, 64)).toThrow(/one image at a time/);
    const empty = hiResCamFromFeatures(head, a, [], 64);
    expect(empty.cams.shape).toEqual([0, 64, 64]);
    tf.dispose([x, a, two, empty.cams, empty.peaks]);
    net.dispose();
  });
});

describe('∂y/∂A through the head\'s first convolution (headGradientFast)', () => {
  it('equals tf.grad through the whole head, with z given or not; HiResCAM maps unchanged; no leaks', async () => {
    const net = buildCompactResNet({ inputSize: 64, width: 4, blocks: [1, 1], headWidth: 8, headMid: 6, numLabels: 5, seed: 31 });
    const features = buildPrefix(net, GRADCAM_LAYER_DEFAULT, 'f');
    const head = buildTail(net, GRADCAM_LAYER_DEFAULT, 'h');
    const x = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const a = features.predict(x) as tf.Tensor4D;
    const targets = logitTargets([0, 2, 4]);
    const split = headForwardKeepingZ(head, a)!;
    const before = tf.memory().numTensors;
    const full = headGradientFull(head, a, targets);
    for (const z of [split.z, undefined]) {
      const fast = headGradientFast(head, a, targets, z)!;
      expect(await relDiff(fast, full)).toBeLessThan(1e-5);
      fast.dispose();
    }
    const withZ = hiResCamFromFeatures(head, a, targets, 64, split.z);
    const fullPath = tf.tidy(() => upsampleAndNormalise(hiResCamMaps(a, headGradientFull(head, a, targets)), 64));
    expect(await relDiff(withZ.cams, fullPath.maps)).toBeLessThan(1e-5);
    tf.dispose([withZ.cams, withZ.peaks, fullPath.maps, fullPath.peaks, full]);
    expect(tf.memory().numTensors).toBe(before);
    // a head that does not start with a linear stride-1 'same' convolution: no shortcut
    const m = model((t) => tf.layers.conv2d({ name: 'c', filters: 2, kernelSize: 3, padding: 'valid', weights: [tf.ones([3, 3, 2, 2]), tf.zeros([2])] }).apply(t) as tf.SymbolicTensor);
    const xa = input();
    const am = m.features.predict(xa) as tf.Tensor4D;
    expect(headGradientFast(m.head, am, logitTargets([0]))).toBeNull();
    tf.dispose([x, a, ...split.tensors, xa, am]);
    net.dispose();
  });
});
