import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  applyLayers,
  prepareBatchNorm,
  releaseBatchNorm,
  buildCompactResNet,
  buildPaperResNet50,
  defaultLabels,
  GRADCAM_LAYER_DEFAULT,
  makeMetadata,
  modelStats,
  wrapModel,
  type FundusModel,
} from './index';
import { isFundusLensError } from '../errors';
import type { ModelMetadata } from '../types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function testMetadata(inputSize: number, over: Partial<ModelMetadata> = {}): ModelMetadata {
  return makeMetadata({ inputSize, name: 'test', ...over });
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(isFundusLensError(e) ? e.code : String(e)).toBe(code);
    return;
  }
  throw new Error(`expected FundusLensError ${code}`);
}

describe('buildPaperResNet50', () => {
  it('has the ResNet50 backbone (23.56 M params) + 3-conv head and 5 logits at 512²', () => {
    const net = buildPaperResNet50();
    try {
      let backbone = 0;
      for (const l of net.layers) if (!l.name.startsWith('head_') && l.name !== 'logits') backbone += l.countParams();
      // Keras ResNet50(include_top=False) has 23,587,712 incl. conv biases; ours has no conv
      // biases before BatchNormalization (they are redundant): 23,561,152.
      expect(backbone).toBe(23_561_152);
      // head: 3×3×2048×256+256, 1×1×256×128+128, 1×1×128×5+5
      expect(net.countParams() - backbone).toBe(3 * 3 * 2048 * 256 + 256 + 256 * 128 + 128 + 128 * 5 + 5);
      expect(net.countParams()).toBe(28_313_541);
      expect(net.outputs[0].shape).toEqual([null, 5]);
      expect(net.getLayer(GRADCAM_LAYER_DEFAULT).outputShape).toEqual([null, 16, 16, 2048]);
      expect(net.inputs[0].shape).toEqual([null, 512, 512, 3]);
    } finally {
      net.dispose();
    }
  });

  it('runs forward at 64² and gives finite logits of shape [2, 5]', () => {
    const net = buildPaperResNet50({ inputSize: 64, numLabels: 5 });
    try {
      const y = tf.tidy(() => net.predict(tf.randomUniform([2, 64, 64, 3], 0, 1, 'float32', 3)) as tf.Tensor);
      expect(y.shape).toEqual([2, 5]);
      expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
      y.dispose();
    } finally {
      net.dispose();
    }
  });
});

describe('buildCompactResNet', () => {
  it('is small, deterministic per seed, with a 1/32 Grad-CAM grid', () => {
    const a = buildCompactResNet({ inputSize: 64, width: 8, blocks: [1, 1], seed: 7 });
    const b = buildCompactResNet({ inputSize: 64, width: 8, blocks: [1, 1], seed: 7 });
    try {
      expect(a.getLayer(GRADCAM_LAYER_DEFAULT).outputShape).toEqual([null, 8, 8, 16]);
      const x = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 1);
      const ya = a.predict(x) as tf.Tensor;
      const yb = b.predict(x) as tf.Tensor;
      expect(ya.shape).toEqual([1, 5]);
      expect(maxAbsDiff(ya, yb)).toBe(0);
      tf.dispose([x, ya, yb]);
    } finally {
      a.dispose();
      b.dispose();
    }
    const def = buildCompactResNet({ inputSize: 512 });
    expect(def.getLayer(GRADCAM_LAYER_DEFAULT).outputShape).toEqual([null, 16, 16, 128]);
    expect(def.countParams()).toBeLessThan(1_000_000);
    def.dispose();
  });

  it('rejects bad options', () => {
    expect(() => buildCompactResNet({ blocks: [] })).toThrow(RangeError);
    expect(() => buildCompactResNet({ width: 0 })).toThrow(RangeError);
    expect(() => buildPaperResNet50({ numLabels: 0 })).toThrow(RangeError);
  });
});

describe('applyLayers', () => {
  it('reproduces predict, returns named outputs and overrides every ReLU', () => {
    const net = buildCompactResNet({ inputSize: 32, width: 4, blocks: [1, 1] });
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 2);
      const ref = net.predict(x) as tf.Tensor;
      const [y] = applyLayers(net, x);
      expect(maxAbsDiff(ref, y)).toBeLessThan(1e-6);

      const [a, logits] = applyLayers(net, x, { outputs: [GRADCAM_LAYER_DEFAULT, 'logits'] });
      expect(a.shape).toEqual([2, 4, 4, 8]);
      expect(maxAbsDiff(logits, ref)).toBeLessThan(1e-6);

      let calls = 0;
      const [same] = applyLayers(net, x, {
        reluOverride: (t) => {
          calls++;
          return tf.relu(t);
        },
      });
      const reluLayers = net.layers.filter((l) => l.getClassName() === 'ReLU').length;
      expect(calls).toBe(reluLayers);
      expect(reluLayers).toBe(1 + 2 * 2 + 2); // stem, 2 blocks × (inner + out), 2 in the head
      expect(maxAbsDiff(same, ref)).toBeLessThan(1e-6);

      const [lin] = applyLayers(net, x, { reluOverride: (t) => t });
      expect(maxAbsDiff(lin, ref)).toBeGreaterThan(1e-4);
    });
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });

  it('handles Activation("relu") and fused relu activations without mutating the model', () => {
    const inp = tf.input({ shape: [4, 4, 2] });
    let h = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1', kernelInitializer: 'ones' }).apply(inp);
    h = tf.layers.activation({ activation: 'relu', name: 'act' }).apply(h);
    h = tf.layers.flatten().apply(h);
    const out = tf.layers.dense({ units: 2, activation: 'relu', name: 'd', kernelInitializer: 'glorotUniform' }).apply(h) as tf.SymbolicTensor;
    const net = tf.model({ inputs: inp, outputs: out });
    tf.tidy(() => {
      const x = tf.randomNormal([1, 4, 4, 2], 0, 1, 'float32', 5);
      const seen: string[] = [];
      const [y] = applyLayers(net, x, {
        reluOverride: (t) => {
          seen.push(t.shape.join('x'));
          return tf.neg(t); // obviously not a ReLU: the output must change
        },
      });
      expect(seen).toEqual(['1x4x4x3', '1x4x4x3', '1x2']);
      // c1 -> -(conv); act -> +conv; dense -> -(dense(conv))
      const conv = net.getLayer('c1') as unknown as { kernel: { read(): tf.Tensor }; bias: { read(): tf.Tensor } };
      const pre = tf.add(tf.conv2d(x as tf.Tensor4D, conv.kernel.read() as tf.Tensor4D, 1, 'same'), conv.bias.read());
      const dense = net.getLayer('d') as unknown as { kernel: { read(): tf.Tensor }; bias: { read(): tf.Tensor } };
      const expected = tf.neg(tf.add(tf.matMul(tf.reshape(pre, [1, -1]), dense.kernel.read() as tf.Tensor2D), dense.bias.read()));
      expect(maxAbsDiff(y, expected)).toBeLessThan(1e-5);
      // the model itself still applies its ReLUs afterwards
      const ref = net.predict(x) as tf.Tensor;
      expect(ref.min().dataSync()[0]).toBeGreaterThanOrEqual(0);
    });
    net.dispose();
  });

  it('an input gradient through the walker computes no filter gradients (unlike the fused layers)', async () => {
    const net = buildCompactResNet({ inputSize: 32, width: 4, blocks: [1, 1] });
    const x = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 12);
    const kernels = async (f: (xi: tf.Tensor) => tf.Tensor) => {
      const info = await tf.profile(() => tf.grad((xi: tf.Tensor) => tf.sum(f(xi)))(x));
      return info.kernels.map((k) => k.name);
    };
    const viaWalker = await kernels((xi) => applyLayers(net, xi)[0]);
    const viaModel = await kernels((xi) => net.apply(xi) as tf.Tensor);
    expect(viaWalker.filter((n) => n === 'Conv2DBackpropFilter')).toHaveLength(0);
    expect(viaModel.filter((n) => n === 'Conv2DBackpropFilter').length).toBeGreaterThan(0);
    expect(viaWalker.filter((n) => n === 'Tile')).toHaveLength(0);
    const gw = tf.grad((xi: tf.Tensor) => tf.sum(applyLayers(net, xi)[0]))(x);
    const gm = tf.grad((xi: tf.Tensor) => tf.sum(net.apply(xi) as tf.Tensor))(x);
    expect(maxAbsDiff(gw, gm) / tf.tidy(() => tf.max(tf.abs(gm)).dataSync()[0])).toBeLessThan(1e-4);
    tf.dispose([x, gw, gm]);
    net.dispose();
  });

  it('prepareBatchNorm: the same outputs with 6 kernels fewer per BatchNorm, 2 tensors per layer until released, new weights never served stale', async () => {
    const net = buildCompactResNet({ inputSize: 32, width: 4, blocks: [1, 1] });
    // non-trivial statistics (the initial ones, mean 0 and variance 1, would hide a wrong fold)
    const bns = net.layers.filter((l) => l.getClassName() === 'BatchNormalization');
    bns.forEach((l, k) => {
      const c = l.getWeights()[0].shape[0];
      l.setWeights([
        tf.randomUniform([c], 0.5, 1.5, 'float32', 10 + k),
        tf.randomUniform([c], -0.3, 0.3, 'float32', 20 + k),
        tf.randomUniform([c], -0.5, 0.5, 'float32', 30 + k),
        tf.randomUniform([c], 0.2, 2, 'float32', 40 + k),
      ]);
    });
    const x = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 13);
    const run = () => tf.tidy(() => applyLayers(net, x)[0]);
    const names = async () => (await tf.profile(() => tf.dispose(run()))).kernels.map((k) => k.name);
    const ref = run();
    const kernelsBefore = await names();
    expect(kernelsBefore.filter((n) => n === 'Rsqrt')).toHaveLength(bns.length);

    const tensors = tf.memory().numTensors;
    expect(prepareBatchNorm(net)).toBe(bns.length);
    expect(prepareBatchNorm(net)).toBe(0); // already current
    expect(tf.memory().numTensors).toBe(tensors + 2 * bns.length); // scale and shift per layer, on the backend
    const folded = run();
    expect(maxAbsDiff(folded, ref) / tf.tidy(() => tf.max(tf.abs(ref)).dataSync()[0])).toBeLessThan(1e-5);
    const kernelsAfter = await names();
    expect(kernelsAfter.filter((n) => n === 'Rsqrt')).toHaveLength(0);
    expect(kernelsBefore.length - kernelsAfter.length).toBe(6 * bns.length);
    // gradients through the folded map are the same too
    const g = (xi: tf.Tensor) => tf.sum(applyLayers(net, xi)[0]);
    const gFolded = tf.grad(g)(x);

    // new weights (as training assigns them): the old fold must not be used, the output follows the weights
    const w = bns[0].getWeights().map((t) => t.clone()); // getWeights() hands out the variables themselves
    bns[0].setWeights([tf.mul(w[0], 2), w[1], w[2], w[3]]);
    const changed = run();
    expect(maxAbsDiff(changed, ref)).toBeGreaterThan(1e-4);
    const beforeRefresh = tf.memory().numTensors;
    expect(prepareBatchNorm(net)).toBe(1);
    expect(tf.memory().numTensors).toBe(beforeRefresh); // the stale pair was replaced, not added
    expect(maxAbsDiff(run(), changed) / tf.tidy(() => tf.max(tf.abs(changed)).dataSync()[0])).toBeLessThan(1e-5);
    bns[0].setWeights(w);
    prepareBatchNorm(net);
    const gAgain = tf.grad(g)(x);
    expect(maxAbsDiff(gAgain, gFolded)).toBeLessThan(1e-6);
    const held = tf.memory().numTensors;
    releaseBatchNorm(net);
    releaseBatchNorm(net); // twice is harmless
    expect(tf.memory().numTensors).toBe(held - 2 * bns.length);
    // prepared inside a caller's tidy: the kept vectors survive it
    tf.tidy(() => void prepareBatchNorm(net));
    expect(tf.memory().numTensors).toBe(held);
    expect((await names()).filter((n) => n === 'Rsqrt')).toHaveLength(0);
    releaseBatchNorm(net);
    tf.dispose([x, ref, folded, gFolded, changed, gAgain, ...w]);
    net.dispose();
  });

  it('passes training to BatchNormalization and rejects unknown layer names', () => {
    const net = buildCompactResNet({ inputSize: 32, width: 4, blocks: [1] });
    tf.tidy(() => {
      const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 9);
      const [inf] = applyLayers(net, x, { outputs: ['stem_bn'] });
      const [train] = applyLayers(net, x, { outputs: ['stem_bn'], training: true });
      // batch statistics normalise each channel to ~zero mean; moving stats (0, 1) do not
      const m = tf.mean(train, [0, 1, 2]);
      expect(tf.max(tf.abs(m)).dataSync()[0]).toBeLessThan(1e-3);
      expect(maxAbsDiff(inf, train)).toBeGreaterThan(1e-2);
      expectCode(() => applyLayers(net, x, { outputs: ['nope'] }), 'model-unknown-layer');
    });
    net.dispose();
  });
});

describe('wrapModel', () => {
  let fm: FundusModel;
  it('splits into features + head that compose to the net and share weights', async () => {
    const before = tf.memory().numTensors;
    const net = buildCompactResNet({ inputSize: 32, width: 4, blocks: [1, 1], seed: 3 });
    fm = wrapModel(net, testMetadata(32));
    await fm.warmup();
    tf.tidy(() => {
      const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
      const logits = fm.logits(x);
      const a = fm.features.predict(x) as tf.Tensor;
      expect(a.shape).toEqual([2, 4, 4, 8]);
      const viaHead = fm.head.predict(a) as tf.Tensor;
      expect(maxAbsDiff(logits, viaHead)).toBeLessThan(1e-5);
      expect(maxAbsDiff(fm.probabilities(x), tf.sigmoid(logits))).toBeLessThan(1e-6);
      // the walker works on the split parts too (shared layers have several inbound nodes now)
      const [viaWalker] = applyLayers(fm.head, a);
      expect(maxAbsDiff(viaWalker, logits)).toBeLessThan(1e-5);
      const [wholeWalker] = applyLayers(fm.net, x);
      expect(maxAbsDiff(wholeWalker, logits)).toBeLessThan(1e-5);
      // shared, not copied: changing the net's head bias changes the head model's output
      const conv3 = fm.net.getLayer('head_conv3');
      const [k, bias] = conv3.getWeights();
      conv3.setWeights([k, tf.add(bias, 1)]);
      const shifted = fm.head.predict(a) as tf.Tensor;
      expect(maxAbsDiff(tf.sub(shifted, viaHead), tf.onesLike(viaHead))).toBeLessThan(1e-5);
      expect(() => fm.logits(tf.zeros([1, 16, 16, 3]))).toThrow(RangeError);
    });
    fm.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects an unknown Grad-CAM layer and a label-count mismatch', () => {
    const net = buildCompactResNet({ inputSize: 32, width: 4, blocks: [1], numLabels: 4 });
    expectCode(() => wrapModel(net, testMetadata(32)), 'model-label-mismatch');
    expectCode(() => wrapModel(net, testMetadata(32, { labels: defaultLabels().slice(0, 4), gradCamLayer: 'conv9' })), 'model-unknown-layer');
    // a layer whose successors also read earlier tensors cannot start the head
    expectCode(() => wrapModel(net, testMetadata(32, { labels: defaultLabels().slice(0, 4), gradCamLayer: 'conv2_block1_1_relu' })), 'model-unknown-layer');
    expectCode(() => wrapModel(net, testMetadata(64, { labels: defaultLabels().slice(0, 4) })), 'model-bad-metadata');
    net.dispose();
  });
});

describe('modelStats', () => {
  it('counts conv MACs: ResNet50 backbone ≈ 4.1 GMACs at 224²', () => {
    const net = buildPaperResNet50({ inputSize: 224 });
    const s = modelStats(net);
    net.dispose();
    const backbone = s.layers.filter((l) => !l.name.startsWith('head_')).reduce((n, l) => n + l.macs, 0);
    // published ResNet50 figure: 4.1 G multiply-adds at 224² (without the 2 M-MAC FC layer)
    expect(backbone / 1e9).toBeGreaterThan(4.0);
    expect(backbone / 1e9).toBeLessThan(4.2);
    expect(s.params).toBe(s.trainableParams + 53_120); // BN moving mean+var are not trainable
  });
});

describe('wrapModel with a Keras-style sigmoid output', () => {
  for (const style of ['activation-layer', 'dense-activation'] as const) {
    it(`strips the final sigmoid (${style}) so logits are pre-sigmoid and probabilities unchanged`, () => {
      const before = tf.memory().numTensors;
      const inp = tf.input({ shape: [8, 8, 3] });
      let h = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c1' }).apply(inp) as tf.SymbolicTensor;
      h = tf.layers.activation({ activation: 'relu', name: 'feat' }).apply(h) as tf.SymbolicTensor;
      h = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(h) as tf.SymbolicTensor;
      const out =
        style === 'activation-layer'
          ? (tf.layers.activation({ activation: 'sigmoid', name: 'prob' }).apply(tf.layers.dense({ units: 5, name: 'fc' }).apply(h)) as tf.SymbolicTensor)
          : (tf.layers.dense({ units: 5, activation: 'sigmoid', name: 'fc' }).apply(h) as tf.SymbolicTensor);
      const keras = tf.model({ inputs: inp, outputs: out });
      const x = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 21) as tf.Tensor4D;
      const ref = keras.predict(x) as tf.Tensor;
      const fm = wrapModel(keras, testMetadata(8, { gradCamLayer: 'feat' }));
      tf.tidy(() => {
        expect(maxAbsDiff(fm.probabilities(x), ref)).toBeLessThan(1e-6);
        expect(maxAbsDiff(tf.sigmoid(fm.logits(x)), ref)).toBeLessThan(1e-6);
        // really pre-sigmoid scores, not the probabilities again
        expect(maxAbsDiff(fm.logits(x), ref)).toBeGreaterThan(1e-3);
        const a = fm.features.predict(x) as tf.Tensor;
        expect(maxAbsDiff(fm.head.predict(a) as tf.Tensor, fm.logits(x))).toBeLessThan(1e-6);
      });
      tf.dispose([x, ref]);
      fm.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
