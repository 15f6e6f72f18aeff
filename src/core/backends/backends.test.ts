import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { clearWasmGradientCache, registerWasmGradientKernels, setupBackend, wasmGradientCacheSize, wasmGradientKernelsRegistered } from './index';
import { applyLayers, buildCompactResNet } from '../model';
import { isFundusLensError } from '../errors';
import { guidedBackprop, guidedChannelSum } from '../explain/guided-backprop';
import { guidedBackwardFromRecord, guidedHeadSeeds, recordFeatures } from '../explain/guided-pass';
import { logitTargets } from '../explain/targets';
import { buildPrefix, buildTail } from '../model/graph';
import { GRADCAM_LAYER_DEFAULT } from '../model/builders';
import { rng } from '../preprocess/synthetic-photos';
import { cases, randArray, relErr, type Case } from './conv-cases.test-fixtures';

function convGrads(c: Case, x: Float32Array, f: Float32Array, dyVals: (n: number) => Float32Array): { dx: Float32Array; dw: Float32Array } {
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, [c.b, c.h, c.w, c.ci]);
    const ft = tf.tensor4d(f, [c.kh, c.kw, c.ci, c.co]);
    const y = tf.conv2d(xt, ft, c.strides, c.pad as 'same');
    const dy = tf.tensor(dyVals(y.size), y.shape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad as 'same'), dy)))([xt, ft]);
    return { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  });
}

describe('wasm gradient kernels', () => {
  beforeAll(async () => {
    expect(await setupBackend(['wasm'])).toBe('wasm');
    expect(wasmGradientKernelsRegistered()).toBe(true);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('registration is idempotent and leaves a later wrapper of our kernel alone', () => {
    registerWasmGradientKernels();
    registerWasmGradientKernels();
    expect(wasmGradientKernelsRegistered()).toBe(true);
    const ours = tf.getKernel('Conv2DBackpropInput', 'wasm')!;
    const wrapper: tf.KernelConfig = { ...ours, kernelFunc: (args) => ours.kernelFunc(args) };
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel(wrapper);
    registerWasmGradientKernels();
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')!.kernelFunc).toBe(wrapper.kernelFunc);
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel(ours);
    expect(wasmGradientKernelsRegistered()).toBe(true);
  });

  it('Conv2DBackpropFilter and Conv2DBackpropInput match cpu on 40 shapes/strides/paddings (rel err ≤ 1e-4)', async () => {
    const r = rng(7);
    let worst = 0;
    let count = 0;
    for (const c of cases()) {
      const x = randArray(r, c.b * c.h * c.w * c.ci);
      const f = randArray(r, c.kh * c.kw * c.ci * c.co);
      const seed = Math.floor(r() * 1e9);
      const dyVals = (n: number) => randArray(rng(seed), n);
      await tf.setBackend('cpu');
      const ref = convGrads(c, x, f, dyVals);
      await tf.setBackend('wasm');
      const before = tf.memory().numTensors;
      const got = convGrads(c, x, f, dyVals);
      expect(tf.memory().numTensors).toBe(before);
      const ex = relErr(got.dx, ref.dx);
      const ew = relErr(got.dw, ref.dw);
      expect(ex, `dx ${JSON.stringify(c)}`).toBeLessThanOrEqual(1e-4);
      expect(ew, `dW ${JSON.stringify(c)}`).toBeLessThanOrEqual(1e-4);
      worst = Math.max(worst, ex, ew);
      count += 2;
    }
    console.log(`[wasm conv gradients] ${count} gradient tensors, worst relative error vs cpu ${worst.toExponential(2)}`);
  });

  it('cached derived filters: reused while the filter lives, never stale after the weights change, freed with the filter', async () => {
    const be = () => tf.backend() as unknown as { numDataIds(): number };
    const r = rng(11);
    // a strided layer wide enough for per-phase filters, a combined one, and a stride-1 one
    const shapes: [number, number, number, number, [number, number]][] = [
      [3, 3, 24, 8, [2, 2]],
      [7, 7, 3, 8, [2, 2]],
      [3, 3, 6, 5, [1, 1]],
    ];
    for (const [kh, kw, ci, co, strides] of shapes) {
      const xVals = randArray(r, 2 * 12 * 12 * ci);
      const w1 = randArray(r, kh * kw * ci * co);
      const w2 = randArray(r, kh * kw * ci * co);
      const dyVals = (n: number) => randArray(rng(99), n);
      const c: Case = { b: 2, h: 12, w: 12, ci, co, kh, kw, strides, pad: 'same' };
      await tf.setBackend('cpu');
      const ref1 = convGrads(c, xVals, w1, dyVals).dx;
      const ref2 = convGrads(c, xVals, w2, dyVals).dx;
      await tf.setBackend('wasm');
      clearWasmGradientCache();
      const tensorsBefore = tf.memory().numTensors;
      const dataBefore = be().numDataIds();
      const init = tf.tensor4d(w1, [kh, kw, ci, co]);
      const filter = tf.variable(init);
      init.dispose();
      const dx = () =>
        tf.tidy(() => {
          const x = tf.tensor4d(xVals, [2, 12, 12, ci]);
          const y = tf.conv2d(x, filter as tf.Tensor4D, strides, 'same');
          const dy = tf.tensor(dyVals(y.size), y.shape);
          return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, filter as tf.Tensor4D, strides, 'same'), dy)))(x).dataSync() as Float32Array;
        });
      const label = JSON.stringify(c);
      expect(relErr(dx(), ref1), label).toBeLessThanOrEqual(1e-4);
      const cached = wasmGradientCacheSize();
      expect(cached, label).toBeGreaterThan(0);
      expect(relErr(dx(), ref1), label).toBeLessThanOrEqual(1e-4);
      expect(wasmGradientCacheSize(), `second call reuses the entry ${label}`).toBe(cached);
      // new weights (what setWeights / an optimiser step does): must not reuse the old flipped filter
      const next = tf.tensor4d(w2, [kh, kw, ci, co]);
      filter.assign(next);
      next.dispose();
      expect(relErr(dx(), ref2), `after assign ${label}`).toBeLessThanOrEqual(1e-4);
      expect(wasmGradientCacheSize(), `the old weights' entry went with them ${label}`).toBe(cached);
      clearWasmGradientCache();
      expect(wasmGradientCacheSize()).toBe(0);
      expect(relErr(dx(), ref2), `after a clear ${label}`).toBeLessThanOrEqual(1e-4);
      filter.dispose();
      expect(wasmGradientCacheSize(), `disposed filter ${label}`).toBe(0);
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      expect(be().numDataIds(), `backend buffers ${label}`).toBe(dataBefore);
    }
  });

  it('a disposed model leaves no cached filters or backend buffers behind', async () => {
    await tf.setBackend('wasm');
    clearWasmGradientCache();
    const be = tf.backend() as unknown as { numDataIds(): number };
    const tensorsBefore = tf.memory().numTensors;
    const dataBefore = be.numDataIds();
    const net = buildCompactResNet({ inputSize: 32, width: 8, blocks: [1, 1], seed: 9 });
    tf.tidy(() => {
      const x = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 1);
      tf.grad((xi: tf.Tensor) => tf.sum(applyLayers(net, xi, { training: false })[0]))(x).dataSync();
    });
    expect(wasmGradientCacheSize()).toBeGreaterThan(0);
    net.dispose();
    expect(wasmGradientCacheSize()).toBe(0);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(be.numDataIds()).toBe(dataBefore);
  });

  it('MaxPoolGrad matches cpu, ties (zeros after a ReLU) included, without leaks', async () => {
    const r = rng(5);
    const pools: { shape: [number, number, number, number]; size: [number, number]; strides: [number, number]; pad: 'same' | 'valid' }[] = [
      { shape: [1, 16, 16, 8], size: [3, 3], strides: [2, 2], pad: 'same' }, // ResNet stem pool
      { shape: [2, 9, 11, 3], size: [3, 2], strides: [2, 1], pad: 'same' },
      { shape: [1, 10, 10, 5], size: [2, 2], strides: [2, 2], pad: 'valid' },
      { shape: [2, 7, 7, 4], size: [3, 3], strides: [1, 1], pad: 'same' }, // overlapping windows
      { shape: [1, 12, 9, 2], size: [4, 3], strides: [3, 3], pad: 'valid' },
    ];
    for (const p of pools) {
      // ~half the values are exactly 0 (a ReLU's output) and some windows are all zeros
      const vals = randArray(r, p.shape.reduce((a, b) => a * b, 1)).map((v) => Math.max(0, v));
      const run = () =>
        tf.tidy(() => {
          const x = tf.tensor4d(vals, p.shape);
          const y = tf.maxPool(x, p.size, p.strides, p.pad);
          const dy = tf.tensor(randArray(rng(3), y.size), y.shape);
          return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, p.size, p.strides, p.pad), dy)))(x).dataSync() as Float32Array;
        });
      await tf.setBackend('cpu');
      const ref = run();
      await tf.setBackend('wasm');
      const before = tf.memory().numTensors;
      const got = run();
      expect(tf.memory().numTensors).toBe(before);
      expect(relErr(got, ref), JSON.stringify(p)).toBeLessThanOrEqual(1e-6);
    }
  });

  it('MaxPoolGrad without the forward output (running-maximum path) gives the same gradient as with it', async () => {
    await setupBackend(['wasm']);
    const r = rng(8);
    const shape: [number, number, number, number] = [1, 15, 13, 6];
    const vals = randArray(r, shape.reduce((a, b) => a * b, 1)).map((v) => Math.max(0, v));
    const got = tf.tidy(() => {
      const x = tf.tensor4d(vals, shape);
      const y = tf.maxPool(x, 3, 2, 'same');
      const dy = tf.tensor(randArray(rng(4), y.size), y.shape);
      const attrs = { filterSize: 3, strides: 2, pad: 'same' } as unknown as tf.NamedAttrMap;
      const withY = tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs) as tf.Tensor;
      const withoutY = tf.engine().runKernel('MaxPoolGrad', { dy, input: x }, attrs) as tf.Tensor;
      return [withY.dataSync() as Float32Array, withoutY.dataSync() as Float32Array];
    });
    expect(Array.from(got[1])).toEqual(Array.from(got[0]));
    expect(got[0].some((v) => v !== 0)).toBe(true);
  });

  it('Identity and same-dtype Cast share the buffer (no copy), stay valid when either side is disposed; other casts convert', async () => {
    await setupBackend(['wasm']);
    const be = tf.backend() as unknown as { numDataIds(): number };
    const before = be.numDataIds();
    const a = tf.tensor([1.5, -2.25, 3], [3]);
    const b = tf.clone(a);
    const c = tf.cast(a, 'float32');
    expect(be.numDataIds()).toBe(before + 1); // one buffer for all three
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1.5, -2.25, 3]);
    b.dispose();
    expect(Array.from(c.dataSync())).toEqual([1.5, -2.25, 3]);
    const i = tf.cast(c, 'int32');
    expect(i.dtype).toBe('int32');
    expect(Array.from(i.dataSync())).toEqual([1, -2, 3]);
    const str = tf.tensor(['x', 'y']);
    const s = tf.clone(str);
    expect(s.dataSync()).toEqual(['x', 'y']);
    tf.dispose([c, i, s, str]);
    expect(be.numDataIds()).toBe(before);
  });

  it('guided backprop (guided ReLU, max pool, strided and 1×1 convs, per-phase and combined) matches cpu, also on the second call from the cache, without leaks', async () => {
    await tf.setBackend('cpu');
    const net = buildCompactResNet({ inputSize: 32, width: 12, blocks: [1, 1, 1], seed: 21 });
    const xVals = randArray(rng(8), 32 * 32 * 3).map((v) => (v + 1) / 2);
    const run = () =>
      tf.tidy(() => guidedBackprop(net, tf.tensor4d(xVals, [1, 32, 32, 3]), logitTargets([0, 3]), { labelsPerPass: 2 }).dataSync() as Float32Array);
    const ref = run();
    await tf.setBackend('wasm');
    clearWasmGradientCache();
    const before = tf.memory().numTensors;
    const first = run();
    expect(wasmGradientCacheSize()).toBeGreaterThan(0);
    const second = run();
    expect(tf.memory().numTensors).toBe(before);
    expect(relErr(first, ref)).toBeLessThanOrEqual(1e-4);
    expect(Array.from(second)).toEqual(Array.from(first));
    expect(ref.some((v) => v !== 0)).toBe(true);
    net.dispose();
    expect(wasmGradientCacheSize()).toBe(0);
  });

  it('the channel-sum guided path (a one-channel strided input gradient) matches cpu on wasm, without leaks', async () => {
    await tf.setBackend('cpu');
    const net = buildCompactResNet({ inputSize: 32, width: 12, blocks: [1, 1, 1], seed: 22 });
    const xVals = randArray(rng(9), 32 * 32 * 3).map((v) => (v + 1) / 2);
    const run = () => {
      const x = tf.tensor4d(xVals, [1, 32, 32, 3]);
      const s = guidedChannelSum(net, x, logitTargets([1, 2]), { labelsPerPass: 2 })!;
      const out = s.dataSync() as Float32Array;
      tf.dispose([x, s]);
      return out;
    };
    const ref = run();
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const got = run();
    expect(tf.memory().numTensors).toBe(before);
    expect(relErr(got, ref)).toBeLessThanOrEqual(1e-4);
    expect(ref.some((v) => v !== 0)).toBe(true);
    net.dispose();
  });

  it('guided backprop from a recorded forward (batched seeds: tiled max-pool tensors, batch-3 input gradients) matches cpu on wasm, without leaks', async () => {
    await tf.setBackend('cpu');
    const net = buildCompactResNet({ inputSize: 32, width: 12, blocks: [1, 1, 1], seed: 23 });
    const features = buildPrefix(net, GRADCAM_LAYER_DEFAULT, 'f');
    const head = buildTail(net, GRADCAM_LAYER_DEFAULT, 'h');
    const xVals = randArray(rng(10), 32 * 32 * 3).map((v) => (v + 1) / 2);
    const run = (channelSum: boolean) => {
      const x = tf.tensor4d(xVals, [1, 32, 32, 3]);
      const rec = recordFeatures(features, x)!;
      const seeds = guidedHeadSeeds(head, rec.output, logitTargets([0, 2, 4]));
      const g = guidedBackwardFromRecord(rec, seeds, channelSum);
      const out = g.dataSync() as Float32Array;
      tf.dispose([x, seeds, g]);
      rec.dispose();
      return out;
    };
    const refs = [run(false), run(true)];
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const got = [run(false), run(true)];
    expect(tf.memory().numTensors).toBe(before);
    refs.forEach((ref, i) => {
      expect(ref.some((v) => v !== 0)).toBe(true);
      expect(relErr(got[i], ref)).toBeLessThanOrEqual(1e-4);
    });
    head.dispose();
    net.dispose();
  });

  it('a full tf.grad through the compact net (weights and input, training and inference BN) matches cpu', async () => {
    await tf.setBackend('cpu');
    const net = buildCompactResNet({ inputSize: 32, width: 4, blocks: [1, 1], seed: 5 });
    const r = rng(3);
    const xVals = randArray(r, 2 * 32 * 32 * 3).map((v) => (v + 1) / 2);
    const labels = Float32Array.from({ length: 10 }, () => (r() < 0.5 ? 1 : 0));
    const run = (training: boolean) =>
      tf.tidy(() => {
        const x = tf.tensor4d(xVals, [2, 32, 32, 3]);
        const yTrue = tf.tensor2d(labels, [2, 5]);
        const { grads, value } = tf.variableGrads(() => {
          const logits = net.apply(x, { training }) as tf.Tensor;
          return tf.losses.sigmoidCrossEntropy(yTrue, logits) as tf.Scalar;
        });
        // input gradient through the walker as guided backprop will use it
        const dx = tf.grad((xi: tf.Tensor) => tf.sum(applyLayers(net, xi, { training })[0]))(x);
        const out: Record<string, Float32Array> = { loss: value.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
        for (const [k, g] of Object.entries(grads)) out[k] = g.dataSync() as Float32Array;
        return out;
      });
    let worst = 0;
    let n = 0;
    for (const training of [true, false]) {
      await tf.setBackend('cpu');
      const ref = run(training);
      await tf.setBackend('wasm');
      const got = run(training);
      expect(Object.keys(got).sort()).toEqual(Object.keys(ref).sort());
      expect(Object.keys(ref).length).toBeGreaterThan(20);
      for (const k of Object.keys(ref)) {
        const e = relErr(got[k], ref[k]);
        expect(e, `${k} (training ${training})`).toBeLessThanOrEqual(1e-4);
        worst = Math.max(worst, e);
        n++;
      }
    }
    console.log(`[wasm full-net gradients] ${n} tensors, worst relative error vs cpu ${worst.toExponential(2)}`);
    net.dispose();
  });
});

describe('setupBackend', () => {
  it('skips unknown backends, picks the first that works, and fails with backend-failed', async () => {
    expect(await setupBackend(['no-such-backend', 'cpu'])).toBe('cpu');
    try {
      await setupBackend(['nope', 'also-nope']);
      throw new Error('expected failure');
    } catch (e) {
      expect(isFundusLensError(e) && e.code).toBe('backend-failed');
      expect((e as Error).message).toContain('nope');
    }
    expect(tf.getBackend()).toBe('cpu');
  });
});

describe('wasm Tile', () => {
  it('broadcast fast path and general fallback match cpu, without leaks', async () => {
    const cases: [number[], number[], 'float32' | 'int32'][] = [
      [[1, 1, 1, 5], [2, 3, 4, 1], 'float32'], // BN-gradient pattern
      [[3, 1], [1, 4], 'int32'],
      [[2, 3], [2, 2], 'float32'], // general: repeated axes of size > 1
      [[1, 2, 1], [3, 2, 2], 'float32'], // mixed
    ];
    for (const [shape, reps, dtype] of cases) {
      const vals = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i * 1.5 - 2);
      const run = async (be: string) => {
        await tf.setBackend(be);
        return tf.tidy(() => tf.tile(tf.tensor(vals, shape, dtype), reps).arraySync());
      };
      const ref = await run('cpu');
      await setupBackend(['wasm']);
      const before = tf.memory().numTensors;
      const got = await run('wasm');
      expect(tf.memory().numTensors).toBe(before);
      expect(got).toEqual(ref);
    }
    await tf.setBackend('cpu');
  });
});
