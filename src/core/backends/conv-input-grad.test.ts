/**
 * The WebGL input gradient as forward convolutions (conv-input-grad.ts) is backend-agnostic: it only calls the
 * backend's own kernels. Registered on the cpu backend here, it must give cpu's own Conv2DBackpropInput on every
 * case of the wasm kernels' test (strides 1–3, kernels 1–7, same/valid/explicit pads, odd sizes, batches).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { convInputGradAsForward, registerConvInputGradAsForward, unregisterConvInputGradAsForward } from './conv-input-grad';
import { cases, randArray, relErr } from './conv-cases.test-fixtures';
import { rng } from '../preprocess/synthetic-photos';

function inputGrad(c: ReturnType<typeof cases>[number], f: Float32Array, dyVals: (n: number) => Float32Array): Float32Array {
  return tf.tidy(() => {
    const ft = tf.tensor4d(f, [c.kh, c.kw, c.ci, c.co]);
    const y = tf.conv2d(tf.zeros([c.b, c.h, c.w, c.ci]) as tf.Tensor4D, ft, c.strides, c.pad as 'same');
    const dy = tf.tensor(dyVals(y.size), y.shape) as tf.Tensor4D;
    return tf.conv2dTranspose(dy, ft, [c.b, c.h, c.w, c.ci], c.strides, c.pad as 'same').dataSync() as Float32Array;
  });
}

describe('Conv2DBackpropInput as forward convolutions', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  afterAll(() => unregisterConvInputGradAsForward('cpu'));

  it('matches the backend’s own kernel on every case, or leaves the case to it; frees its intermediates', () => {
    const r = rng(11);
    let worst = 0;
    let rewritten = 0;
    const all = cases();
    for (const c of all) {
      const f = randArray(r, c.kh * c.kw * c.ci * c.co);
      const seed = Math.floor(r() * 1e9);
      const dyVals = (n: number) => randArray(rng(seed), n);
      unregisterConvInputGradAsForward('cpu');
      const ref = inputGrad(c, f, dyVals);
      // every channel count, so the small shapes of the cases run through the rewrite too
      registerConvInputGradAsForward('cpu', 1);
      const before = tf.memory().numTensors;
      const dataBefore = tf.engine().backend.numDataIds();
      const got = inputGrad(c, f, dyVals);
      expect(tf.memory().numTensors).toBe(before);
      expect(tf.engine().backend.numDataIds(), JSON.stringify(c)).toBe(dataBefore);
      const e = relErr(got, ref);
      expect(e, JSON.stringify(c)).toBeLessThanOrEqual(1e-5);
      worst = Math.max(worst, e);
      if (c.strides[0] === c.strides[1] && c.kh >= c.strides[0] && c.kw >= c.strides[1]) rewritten++;
    }
    // the rewrite took most cases (unequal strides go to the backend's own kernel)
    expect(rewritten).toBeGreaterThan(all.length / 2);
    console.log(`[conv input gradient as forward convs] ${all.length} cases, ${rewritten} rewritten, worst relative error ${worst.toExponential(2)}`);
  });

  it('declines what it does not handle, so the original kernel runs', () => {
    const backend = tf.engine().backend;
    const dy = tf.zeros([1, 4, 4, 2]);
    const filter = tf.zeros([3, 3, 3, 2]);
    const base = { inputShape: [1, 8, 8, 3], pad: 'same', dataFormat: 'NHWC' };
    const call = (attrs: Record<string, unknown>, minChannels = 1, f = filter) =>
      convInputGradAsForward({ inputs: { dy, filter: f }, backend, attrs: attrs as tf.NamedAttrMap }, 'cpu', minChannels);
    expect(call({ ...base, strides: [2, 1] })).toBeNull(); // unequal strides
    expect(call({ ...base, strides: [2, 2], dataFormat: 'NCHW' })).toBeNull();
    expect(call({ ...base, strides: [2, 2] }, 16)).toBeNull(); // 3 input channels: the own kernel is faster
    const oneByOne = tf.zeros([1, 1, 3, 2]);
    expect(call({ ...base, strides: [2, 2] }, 1, oneByOne)).toBeNull(); // 1×1 stride 2: phases without taps
    oneByOne.dispose();
    const out = call({ ...base, strides: [2, 2] });
    expect(out?.shape).toEqual([1, 8, 8, 3]);
    (backend as unknown as { disposeIntermediateTensorInfo(i: tf.TensorInfo): void }).disposeIntermediateTensorInfo(out!);
    tf.dispose([dy, filter]);
  });
});
