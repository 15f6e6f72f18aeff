import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { gradCam, gradCamFromFeatures } from './grad-cam';
import { activationBytes, defaultLabelsPerPass, guidedBackprop, guidedChannelSum, guidedRelu, guidedSaliency, guidedSaliencyMaps } from './guided-backprop';
import { guidedGradCam } from './guided-grad-cam';
import { combineArrays, combineMaps } from './combine';
import { diagonalObjective, logitTarget, logitTargets } from './targets';
import { buildCompactResNet } from '../model/builders';
import { buildPrefix, buildTail } from '../model/graph';
import { lesionContrastOf } from '../types';
import { relDiff } from '../tensor.test-fixtures';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const S = 8;

/**
 * Hand-built model whose Grad-CAM is known in closed form:
 *   A = ReLU(x) (identity 1×1 conv), logits = GAP(conv1x1(A; W)) so y^c = mean_ij Σ_k W[k,c] A_ij^k.
 *   ∂y^c/∂A^k_ij = W[k,c]/(H·W) everywhere -> w^c_k = W[k,c]/(H·W) (eq. 1)
 *   Grad-CAM^c = ReLU(Σ_k W[k,c] A^k)/(H·W) (eq. 2).
 * Label 0 reads channel 0 only; label 1 = -ch0 + 3·ch1, so its ReLU clips the channel-0 region.
 */
function analyticModel(pool = 1) {
  const input = tf.input({ shape: [S, S, 2], name: 'x' });
  const featConv = tf.layers.conv2d({ name: 'feat', filters: 2, kernelSize: 1, useBias: false, weights: [tf.tensor4d([1, 0, 0, 1], [1, 1, 2, 2])] });
  let a = tf.layers.reLU({ name: 'A' }).apply(featConv.apply(input)) as tf.SymbolicTensor;
  if (pool > 1) a = tf.layers.averagePooling2d({ name: 'pool', poolSize: pool, strides: pool }).apply(a) as tf.SymbolicTensor;
  const headConv = tf.layers.conv2d({ name: 'head', filters: 2, kernelSize: 1, useBias: false, weights: [tf.tensor4d([1, -1, 0, 3], [1, 1, 2, 2])] });
  const gap = tf.layers.globalAveragePooling2d({ name: 'logits' });
  const logits = gap.apply(headConv.apply(a)) as tf.SymbolicTensor;
  const net = tf.model({ inputs: input, outputs: logits });
  return { net, features: buildPrefix(net, pool > 1 ? 'pool' : 'A', 'f'), head: buildTail(net, pool > 1 ? 'pool' : 'A', 'h') };
}

/** channel 0 = 1 on the top-left 3×3 block, channel 1 = 2 on the bottom-right 3×4 block. */
function analyticInput(): tf.Tensor4D {
  const d = new Float32Array(S * S * 2);
  for (let j = 0; j < S; j++)
    for (let i = 0; i < S; i++) {
      if (j < 3 && i < 3) d[(j * S + i) * 2] = 1;
      if (j >= 5 && i >= 4) d[(j * S + i) * 2 + 1] = 2;
    }
  return tf.tensor4d(d, [1, S, S, 2]);
}

describe('Grad-CAM (eq. 1-2)', () => {
  it('matches the closed form on a hand-built model: peaks in the label region, zero elsewhere', async () => {
    const m = analyticModel();
    const x = analyticInput();
    const before = tf.memory().numTensors;
    const { cams, peaks, logits } = gradCam(m, x, logitTargets([0, 1]));
    expect(tf.memory().numTensors).toBe(before + 3);
    expect(cams.shape).toEqual([2, S, S]);
    const c = (await cams.array()) as number[][][];
    const p = await peaks.data();
    for (let j = 0; j < S; j++)
      for (let i = 0; i < S; i++) {
        const inA = j < 3 && i < 3, inB = j >= 5 && i >= 4;
        // label 0: exactly A^0 normalised
        expect(c[0][j][i]).toBeCloseTo(inA ? 1 : 0, 6);
        // label 1: ReLU(-A0 + 3 A1) -> only the channel-1 block survives
        expect(c[1][j][i]).toBeCloseTo(inB ? 1 : 0, 6);
      }
    // raw peaks: W[k,c]·A / (H·W)
    expect(p[0]).toBeCloseTo(1 / 64, 6);
    expect(p[1]).toBeCloseTo(6 / 64, 6);
    // the per-label maps differ
    expect(c[0]).not.toEqual(c[1]);
    const l = await logits.data();
    expect(l[0]).toBeCloseTo(9 / 64, 5);
    expect(l[1]).toBeCloseTo((-9 + 3 * 24) / 64, 5);
    tf.dispose([cams, peaks, logits, x]);
    m.net.dispose();
  });

  it('upsamples a coarse map to the input grid with the peak over the right region', async () => {
    const m = analyticModel(4); // A is 2×2: each cell summarises a 4×4 input quadrant
    const x = analyticInput();
    const { cams, peaks, logits } = gradCam(m, x, [logitTarget(0), logitTarget(1)]);
    expect(cams.shape).toEqual([2, S, S]);
    const c = (await cams.array()) as number[][][];
    // label 0 lives in the top-left quadrant, label 1 in the bottom-right one
    expect(c[0][1][1]).toBeCloseTo(1, 5);
    expect(c[0][6][6]).toBeCloseTo(0, 5);
    expect(c[1][6][6]).toBeCloseTo(1, 5);
    expect(c[1][1][1]).toBeCloseTo(0, 5);
    const flat = c.flat(2);
    expect(Math.max(...flat)).toBeLessThanOrEqual(1 + 1e-6);
    expect(Math.min(...flat)).toBeGreaterThanOrEqual(0);
    tf.dispose([cams, peaks, logits, x]);
    m.net.dispose();
  });

  it('the batched one-backward-pass trick equals one tf.grad per label on a random compact ResNet', async () => {
    const net = buildCompactResNet({ inputSize: 32, width: 4, numLabels: 5, headWidth: 8, headMid: 8, seed: 3 });
    const features = buildPrefix(net, 'gradcam_features', 'f');
    const head = buildTail(net, 'gradcam_features', 'h');
    const x = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const a = features.apply(x, { training: false }) as tf.Tensor4D;
    const targets = logitTargets([0, 1, 2, 3]);
    const { cams, peaks } = gradCamFromFeatures(head, a, targets, 32);
    // reference: separate gradients, eq. 1-2 by hand
    const ref = tf.tidy(() =>
      tf.stack(
        targets.map((t) => {
          const g = tf.grad((z: tf.Tensor) => tf.sum(t.score(head.apply(z, { training: false }) as tf.Tensor2D)))(a);
          const w = tf.mean(g, [0, 1, 2]);
          const cam = tf.relu(tf.sum(tf.mul(a, w), 3)); // [1,h,w]
          const up = tf.image.resizeBilinear(tf.expandDims(cam, 3) as tf.Tensor4D, [32, 32], false, true);
          return tf.div(up, tf.maximum(tf.max(cam), 1e-12)).reshape([32, 32]);
        }),
      ),
    );
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(cams, ref))).dataSync()[0]);
    expect(diff).toBeLessThan(1e-4);
    // random weights still give label-specific maps
    const perLabel = (await cams.array()) as number[][][];
    expect(perLabel[0].flat()).not.toEqual(perLabel[1].flat());
    tf.dispose([a, cams, peaks, ref]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    net.dispose();
  });
});

describe('Guided Backpropagation', () => {
  /**
   * y = mean_ij Σ_k v_k ReLU(w_k x_ij) on a 2×2 single-channel input, w = [2, -3], v = [1, -1].
   *   ordinary  ∂y/∂x_ij = ¼ Σ_k v_k w_k [w_k x_ij > 0]
   *   guided    ∂y/∂x_ij = ¼ Σ_k v_k w_k [w_k x_ij > 0][v_k > 0]     (ReLU passes only positive gradient)
   * x > 0: k=0 active -> both 0.5.  x < 0: k=1 active, v_1 < 0 -> ordinary 0.75, guided 0.
   */
  function tiny() {
    const input = tf.input({ shape: [2, 2, 1] });
    const c1 = tf.layers.conv2d({ filters: 2, kernelSize: 1, useBias: false, weights: [tf.tensor4d([2, -3], [1, 1, 1, 2])] });
    const r = tf.layers.reLU();
    const c2 = tf.layers.conv2d({ filters: 1, kernelSize: 1, useBias: false, weights: [tf.tensor4d([1, -1], [1, 1, 2, 1])] });
    const gap = tf.layers.globalAveragePooling2d({});
    return tf.model({ inputs: input, outputs: gap.apply(c2.apply(r.apply(c1.apply(input)))) as tf.SymbolicTensor });
  }

  it('equals the hand-computed guided gradient and leaves the model untouched', async () => {
    const net = tiny();
    const x = tf.tensor4d([1, -2, 0.5, -0.1], [1, 2, 2, 1]);
    const before = tf.memory().numTensors;
    const g = guidedBackprop(net, x, [logitTarget(0)]);
    expect(Array.from(await g.data())).toEqual([0.5, 0, 0.5, 0].map((v) => expect.closeTo(v, 6)));
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // the shared model still has its ordinary gradient afterwards
    const plain = tf.grad((z: tf.Tensor) => tf.sum(net.apply(z) as tf.Tensor))(x);
    expect(Array.from(await plain.data())).toEqual([0.5, 0.75, 0.5, 0.75].map((v) => expect.closeTo(v, 6)));
    tf.dispose([plain, x]);
    net.dispose();
  });

  it('guidedRelu: forward is ReLU, backward gates on input > 0 and gradient > 0', async () => {
    const x = tf.tensor1d([-1, 2, 3, 0]);
    const y = guidedRelu(x);
    expect(Array.from(await y.data())).toEqual([0, 2, 3, 0]);
    const g = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(guidedRelu(z), tf.tensor1d([5, 4, -1, 2]))))(x);
    expect(Array.from(await g.data())).toEqual([0, 4, 0, 0].map((v) => expect.closeTo(v, 9)));
    tf.dispose([x, y, g]);
  });

  it('several labels in one pass equal one pass per label (compact ResNet), no leaks', async () => {
    const net = buildCompactResNet({ inputSize: 32, width: 4, numLabels: 5, headWidth: 8, headMid: 8, seed: 5 });
    const x = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const targets = logitTargets([0, 2, 3]);
    const batched = guidedBackprop(net, x, targets, { labelsPerPass: 3 });
    const single = guidedBackprop(net, x, targets, { labelsPerPass: 1 });
    expect(batched.shape).toEqual([3, 32, 32, 3]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(batched, single))).dataSync()[0]);
    const scale = tf.tidy(() => tf.max(tf.abs(single)).dataSync()[0]);
    expect(scale).toBeGreaterThan(0);
    expect(diff / scale).toBeLessThan(1e-4);
    const sal = guidedSaliency(batched);
    expect(sal.shape).toEqual([3, 32, 32]);
    const s = await sal.data();
    expect(Math.max(...s)).toBeCloseTo(1, 5);
    expect(Math.min(...s)).toBeGreaterThanOrEqual(0);
    tf.dispose([batched, single, sal]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    net.dispose();
  });
});

describe('guidedSaliency: lesion-contrast saliency', () => {
  // One 2×2 map per row, 3 channels. Pixel 0: all channels +1 (brightening raises the score);
  // pixel 1: all −2 (darkening raises it, and |g| is larger); pixel 2: +3, −3, 0 (an edge of both signs, Σ 0);
  // pixel 3: zero.
  const px = [
    [1, 1, 1],
    [-2, -2, -2],
    [3, -3, 0],
    [0, 0, 0],
  ];
  const grads = (rows: number) => tf.tensor4d(Array.from({ length: rows }, () => px.flat()).flat(), [rows, 2, 2, 3]);

  it('bright keeps only the brightening pixel, dark only the darkening one, abs keeps every strong edge', async () => {
    const g = grads(3);
    const before = tf.memory().numTensors;
    const sal = guidedSaliency(g, ['bright', 'dark', null]);
    const v = Array.from(await sal.data());
    tf.dispose(sal);
    expect(tf.memory().numTensors).toBe(before);
    expect(v.slice(0, 4)).toEqual([1, 0, 0, 0]);
    expect(v.slice(4, 8)).toEqual([0, 1, 0, 0]);
    // abs: max over channels of |g| = 1, 2, 3, 0, over its peak 3
    expect(v.slice(8, 12).map((x) => Math.round(x * 1000) / 1000)).toEqual([0.333, 0.667, 1, 0]);
    g.dispose();
  });

  it('without contrasts it is the unsigned map, and a wrong count is refused', async () => {
    const g = grads(2);
    const plain = guidedSaliency(g);
    const nulls = guidedSaliency(g, [null, null]);
    expect(Array.from(await plain.data())).toEqual(Array.from(await nulls.data()));
    expect(() => guidedSaliency(g, ['dark'])).toThrow(/1 contrasts for 2 maps/);
    tf.dispose([g, plain, nulls]);
  });

  it('lesion contrast per label id: dark red lesions, bright ones, none for healthy or an unknown id', () => {
    expect(['ma', 'hm', 'hex', 'cws', 'healthy', 'drusen', '__proto__'].map(lesionContrastOf)).toEqual(['dark', 'dark', 'bright', 'bright', null, null, null]);
  });

  it('a map with no gradient in its direction is all zeros, not NaN', async () => {
    const g = tf.fill([1, 2, 2, 3], -1) as tf.Tensor4D;
    const sal = guidedSaliency(g, ['bright']);
    expect(Array.from(await sal.data())).toEqual([0, 0, 0, 0]);
    tf.dispose([g, sal]);
  });
});

describe('guided backprop through a one-channel first-layer gradient (guidedChannelSum)', () => {
  it('equals the channel sum of the full guided gradient (strided 5×5 stem, odd size too), in passes of any size, no leaks', async () => {
    for (const size of [32, 37]) {
      const net = buildCompactResNet({ inputSize: size, width: 4, numLabels: 5, headWidth: 8, headMid: 8, seed: 6 });
      const x = tf.randomUniform([1, size, size, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
      const targets = logitTargets([0, 1, 3]);
      const before = tf.memory().numTensors;
      const full = tf.tidy(() => tf.sum(guidedBackprop(net, x, targets), 3));
      const fast = guidedChannelSum(net, x, targets, { labelsPerPass: 2 })!;
      expect(fast.shape).toEqual([3, size, size]);
      expect(await relDiff(fast, full), `size ${size}`).toBeLessThan(1e-5);
      tf.dispose([full, fast]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose(x);
      net.dispose();
    }
  });

  it('guidedSaliencyMaps: the signed maps by the fast path equal guidedSaliency of the full gradient; others take the full path', async () => {
    const net = buildCompactResNet({ inputSize: 32, width: 4, numLabels: 5, headWidth: 8, headMid: 8, seed: 7 });
    const x = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 12) as tf.Tensor4D;
    const targets = logitTargets([0, 2]);
    const contrast = ['dark', 'bright'] as const;
    const ref = tf.tidy(() => guidedSaliency(guidedBackprop(net, x, targets), contrast));
    const got = guidedSaliencyMaps(net, x, targets, contrast);
    expect(await relDiff(got, ref)).toBeLessThan(1e-5);
    const mixedRef = tf.tidy(() => guidedSaliency(guidedBackprop(net, x, targets), ['dark', null]));
    const mixed = guidedSaliencyMaps(net, x, targets, ['dark', null]);
    expect(Array.from(await mixed.data())).toEqual(Array.from(await mixedRef.data()));
    expect(() => guidedSaliencyMaps(net, x, targets, ['dark'])).toThrow(/1 contrasts for 2 targets/);
    tf.dispose([x, ref, got, mixedRef, mixed]);
    net.dispose();
  });

  it('declines a model whose input is not read by one linear Conv2D alone', () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const y = tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'relu' }).apply(input) as tf.SymbolicTensor;
    const net = tf.model({ inputs: input, outputs: tf.layers.globalAveragePooling2d({}).apply(y) as tf.SymbolicTensor });
    const x = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
    expect(guidedChannelSum(net, x, logitTargets([0]))).toBeNull();
    x.dispose();
    net.dispose();
  });
});

describe('guided backprop memory budget', () => {
  it('labels per pass follow the activation size', () => {
    const net = buildCompactResNet({ inputSize: 512, width: 16 });
    const bytes = activationBytes(net);
    // stem output alone: 256·256·16 floats
    expect(bytes).toBeGreaterThan(256 * 256 * 16 * 4);
    expect(bytes).toBeLessThan(64 * 2 ** 20);
    expect(defaultLabelsPerPass(net)).toBe(4);
    expect(defaultLabelsPerPass(net, 4 * bytes * 2.5)).toBe(2);
    expect(defaultLabelsPerPass(net, 1)).toBe(1);
    net.dispose();
  });
});

describe('Guided Grad-CAM (eq. 3) and the combined map (eq. 4)', () => {
  it('guidedGradCam is the normalised point-wise product', async () => {
    const sal = tf.tensor3d([1, 0.5, 0, 1, 0, 0, 0, 0], [2, 2, 2]);
    const cam = tf.tensor3d([0.5, 1, 1, 0.2, 0, 0, 0, 0], [2, 2, 2]);
    const ggc = guidedGradCam(sal, cam);
    // label 0: products 0.5, 0.5, 0, 0.2 -> /0.5 ; label 1: all zero stays zero
    expect(Array.from(await ggc.data())).toEqual([1, 1, 0, 0.4, 0, 0, 0, 0].map((v) => expect.closeTo(v, 6)));
    expect(() => guidedGradCam(sal, tf.zeros([1, 2, 2]) as tf.Tensor3D)).toThrow(RangeError);
    tf.dispose([sal, cam, ggc]);
  });

  it('combineMaps sums and normalises to peak 1; arrays and tensors agree', async () => {
    const maps = tf.tensor3d([1, 0, 0, 0, 0.5, 0, 1, 0], [2, 2, 2]);
    const c = combineMaps(maps);
    expect(Array.from(await c.data())).toEqual([1, 0, 2 / 3, 0].map((v) => expect.closeTo(v, 6)));
    const arr = combineArrays([new Float32Array([1, 0, 0, 0]), new Float32Array([0.5, 0, 1, 0])], 4);
    expect(Array.from(arr)).toEqual(Array.from(await c.data()).map((v) => expect.closeTo(v, 6)));
    const empty = combineMaps(tf.zeros([0, 2, 2]) as tf.Tensor3D);
    expect(Array.from(await empty.data())).toEqual([0, 0, 0, 0]);
    tf.dispose([maps, c, empty]);
  });

  it('diagonalObjective: the masked sum for logit targets gives the gradient of the per-target slices', async () => {
    const x = tf.tensor2d([0.5, -1, 2, 0.25, 3, -2, 1, 1, -0.5, 4, 0, 7], [3, 4]);
    const targets = logitTargets([2, 0, 2]);
    // the same scores without logitColumn: the generic per-target slice path
    const generic = targets.map(({ name, labelIndex, score }) => ({ name, labelIndex, score }));
    const f = (t: typeof targets) => (l: tf.Tensor) => diagonalObjective(tf.mul(l, l) as tf.Tensor2D, t);
    const [gMask, gSlices] = [tf.grad(f(targets))(x), tf.grad(f(generic))(x)];
    // (+ 0: the mask multiplies the other columns by 0, which may give -0 where the slices give +0)
    const values = async (t: tf.Tensor) => Array.from(await t.data(), (v) => v + 0);
    expect(await values(gMask)).toEqual(await values(gSlices));
    // only each row's own column gets a gradient: 2·x there
    expect(await values(gMask)).toEqual([0, 0, 4, 0, 6, 0, 0, 0, 0, 0, 0, 0]);
    expect((await diagonalObjective(x, targets).data())[0]).toBeCloseTo(2 + 3 + 0, 6);
    // a column past the logits still fails loudly
    expect(() => diagonalObjective(x, logitTargets([0, 1, 9]))).toThrow(RangeError);
    tf.dispose([x, gMask, gSlices]);
  });

  it('diagonalObjective rejects a row/target mismatch', () => {
    const l = tf.zeros([2, 5]) as tf.Tensor2D;
    expect(() => diagonalObjective(l, [logitTarget(0)])).toThrow(RangeError);
    expect(() => logitTarget(-1)).toThrow(RangeError);
    l.dispose();
  });
});
