import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { assemble, WASM_MODULES } from '../../../scripts/build-wasm';
import { rng } from '../preprocess/synthetic-photos';
import { heapKernels, setHeapKernelsEnabled } from './heap-kernels';
import { HEAP_KERNELS_WASM } from './heap-kernels.wasm';
import { setupBackend } from './index';
import { cases, randArray } from './conv-cases.test-fixtures';

/** MaxPoolGrad as the backward of a pooling gives it (dy, the input and the forward's maxima), read back. */
function poolGrad(vals: Float32Array, shape: [number, number, number, number], size: [number, number], strides: [number, number], pad: 'same' | 'valid', seed: number): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(vals, shape);
    const y = tf.maxPool(x, size, strides, pad);
    const dy = tf.tensor(randArray(rng(seed), y.size), y.shape);
    const attrs = { filterSize: size, strides, pad } as unknown as tf.NamedAttrMap;
    return (tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs) as tf.Tensor).dataSync() as Float32Array;
  });
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('heap kernels (WebAssembly SIMD on the wasm backend’s own memory)', () => {
  beforeAll(async () => {
    expect(await setupBackend(['wasm'])).toBe('wasm');
  });
  afterEach(() => setHeapKernelsEnabled(true));
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('the committed module is the assembled heap-kernels.wat (run `npm run build:wasm` after editing it)', async () => {
    const m = WASM_MODULES.heap;
    const bytes = await assemble(readFileSync(m.wat, 'utf8'), 'heap-kernels.wat');
    expect(Array.from(HEAP_KERNELS_WASM)).toEqual(Array.from(bytes));
  });

  it('instantiates on the backend’s memory here (single-threaded wasm build), so the comparisons below compare two paths', () => {
    expect(heapKernels(tf.backend())).not.toBeNull();
    setHeapKernelsEnabled(false);
    expect(heapKernels(tf.backend())).toBeNull();
  });

  it('MaxPoolGrad: the same bits as the JS pass, ties, batches, padding and overlapping windows included', () => {
    const r = rng(31);
    const pools: { shape: [number, number, number, number]; size: [number, number]; strides: [number, number]; pad: 'same' | 'valid' }[] = [
      { shape: [1, 64, 64, 16], size: [3, 3], strides: [2, 2], pad: 'same' }, // the demo model's stem pool, smaller
      { shape: [2, 9, 11, 4], size: [3, 3], strides: [2, 2], pad: 'same' },
      { shape: [1, 10, 10, 8], size: [2, 2], strides: [2, 2], pad: 'valid' },
      { shape: [2, 7, 7, 12], size: [3, 3], strides: [1, 1], pad: 'same' }, // every input in up to 9 windows
      { shape: [1, 12, 9, 4], size: [4, 3], strides: [3, 2], pad: 'same' },
    ];
    for (const p of pools) {
      // ~half the values are exactly 0 (a ReLU's output), so many windows tie, some are all zeros
      const vals = Float32Array.from(randArray(r, p.shape.reduce((a, b) => a * b, 1)), (v) => Math.max(0, v));
      setHeapKernelsEnabled(false);
      const js = poolGrad(vals, p.shape, p.size, p.strides, p.pad, 3);
      setHeapKernelsEnabled(true);
      const before = tf.memory().numTensors;
      const heap = poolGrad(vals, p.shape, p.size, p.strides, p.pad, 3);
      expect(tf.memory().numTensors).toBe(before);
      expect(bits(heap), JSON.stringify(p)).toEqual(bits(js));
      expect(heap.some((v) => v !== 0)).toBe(true);
    }
  });

  it('MaxPoolGrad: a NaN in a window leaves it to the JS pass, whose running maximum decides (same result as JS)', () => {
    const shape: [number, number, number, number] = [1, 8, 8, 4];
    const vals = Float32Array.from(randArray(rng(9), 256));
    vals[4 * (3 * 8 + 3) + 1] = NaN;
    setHeapKernelsEnabled(false);
    const js = poolGrad(vals, shape, [3, 3], [2, 2], 'same', 5);
    setHeapKernelsEnabled(true);
    const heap = poolGrad(vals, shape, [3, 3], [2, 2], 'same', 5);
    expect(bits(heap)).toEqual(bits(js));
  });

  it('strided input gradient: the phase interleave copied on the heap gives the same bits as the JS loops, for every conv case', () => {
    const strided = cases().filter((c) => c.strides[0] > 1 || c.strides[1] > 1);
    expect(strided.length).toBeGreaterThan(5);
    for (const [n, c] of strided.entries()) {
      const r = rng(100 + n);
      const x = randArray(r, c.b * c.h * c.w * c.ci);
      const f = randArray(r, c.kh * c.kw * c.ci * c.co);
      const dx = () =>
        tf.tidy(() => {
          const xt = tf.tensor4d(x, [c.b, c.h, c.w, c.ci]);
          const ft = tf.tensor4d(f, [c.kh, c.kw, c.ci, c.co]);
          const y = tf.conv2d(xt, ft, c.strides, c.pad as 'same');
          const dy = tf.tensor(randArray(rng(7), y.size), y.shape);
          return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, ft, c.strides, c.pad as 'same'), dy)))(xt).dataSync() as Float32Array;
        });
      setHeapKernelsEnabled(false);
      const js = dx();
      setHeapKernelsEnabled(true);
      const heap = dx();
      expect(bits(heap), JSON.stringify(c)).toEqual(bits(js));
      expect(heap.some((v) => v !== 0)).toBe(true);
    }
  });

  it('keeps working after the backend’s heap grows (it reads the memory, not a copy of its buffer)', () => {
    const shape: [number, number, number, number] = [1, 32, 32, 8];
    const vals = Float32Array.from(randArray(rng(12), 32 * 32 * 8), (v) => Math.max(0, v));
    const first = poolGrad(vals, shape, [3, 3], [2, 2], 'same', 7);
    const big = tf.zeros([64 << 20]); // 256 MB: more than the heap holds now
    try {
      const again = poolGrad(vals, shape, [3, 3], [2, 2], 'same', 7);
      expect(bits(again)).toEqual(bits(first));
    } finally {
      big.dispose();
    }
  });
});
