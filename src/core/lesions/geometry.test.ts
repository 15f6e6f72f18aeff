import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { classMapsFromFeatures } from '../explain/class-maps';
import { upsampleClassMaps } from '../explain/grad-cam';
import { headForwardKeepingZ } from '../explain/grad-cam-fast';
import { logitTargets } from '../explain/targets';
import { tinyModel, TINY_SIZE as S } from '../analyze.test-fixtures';
import type { LabelMap } from '../types';
import { upsampleMap } from './geometry';

function randomMap(w: number, h: number, seed: number): LabelMap {
  const data = new Float32Array(w * h);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    data[i] = s / 2147483648;
  }
  return { label: 'ma', width: w, height: h, data };
}

describe('upsampleMap', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  // integer ratios (16 -> 512, the demo and ResNet50 at 512²), a non-integer one, a 1×1 map and a non-square one
  for (const [w, h, size] of [[16, 16, 512], [8, 8, 64], [7, 7, 50], [1, 1, 4], [5, 3, 20]] as const) {
    it(`${w}×${h} -> ${size}²: tf.image.resizeBilinear's numbers (halfPixelCenters), to float rounding`, () => {
      const map = randomMap(w, h, w * 31 + size);
      const ref = tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(map.data, [h, w, 1]), [size, size], false, true).dataSync());
      const got = upsampleMap(map, size);
      expect(got.length).toBe(size * size);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]));
      expect(worst).toBeLessThan(1e-6);
    });
  }

  it('multiplies by the mask, fills `out`, and copies a map already at size', () => {
    const map = randomMap(4, 4, 7);
    const mask = new Float32Array(64).map((_, i) => (i % 3 === 0 ? 0 : 0.5));
    const out = new Float32Array(64).fill(9);
    const plain = upsampleMap(map, 8);
    expect(upsampleMap(map, 8, mask, out)).toBe(out);
    out.forEach((v, i) => expect(v).toBeCloseTo(plain[i] * mask[i], 7));
    const full = randomMap(8, 8, 3);
    const copy = upsampleMap(full, 8);
    expect(copy).not.toBe(full.data);
    expect(Array.from(copy)).toEqual(Array.from(full.data));
    expect(() => upsampleMap(map, 8, new Float32Array(10))).toThrow(RangeError);
    expect(() => upsampleMap({ ...map, data: new Float32Array(3) }, 8)).toThrow(RangeError);
  });

  it("the coarse class maps, upsampled here or in the graph, are the model-size maps the class-map functions return", () => {
    const model = tinyModel();
    try {
      const x = tf.randomUniform([1, S, S, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
      const a = model.features.apply(x) as tf.Tensor4D;
      const grid = a.shape[1];
      const split = headForwardKeepingZ(model.head, a);
      const targets = logitTargets([0, 1, 2, 3]);
      for (const method of ['gradcam', 'hirescam'] as const) {
        const full = classMapsFromFeatures(method, model.head, a, targets, S, split?.z);
        const coarse = classMapsFromFeatures(method, model.head, a, targets, grid, split?.z);
        expect(coarse.cams.shape).toEqual([4, grid, grid]);
        const f = full.cams.dataSync() as Float32Array, c = coarse.cams.dataSync() as Float32Array;
        const inGraph = upsampleClassMaps(coarse.cams, S);
        const g = inGraph.dataSync();
        for (let t = 0; t < 4; t++) {
          const js = upsampleMap({ label: 'ma', width: grid, height: grid, data: c.slice(t * grid * grid, (t + 1) * grid * grid) }, S);
          for (let p = 0; p < S * S; p++) {
            expect(Math.abs(js[p] - f[t * S * S + p])).toBeLessThan(1e-6);
            expect(Math.abs(g[t * S * S + p] - f[t * S * S + p])).toBeLessThan(1e-6);
          }
        }
        expect(Array.from(coarse.peaks.dataSync())).toEqual(Array.from(full.peaks.dataSync()));
        tf.dispose([full.cams, full.peaks, coarse.cams, coarse.peaks, inGraph]);
      }
      tf.dispose([x, a, ...(split?.tensors ?? [])]);
    } finally {
      model.dispose();
    }
  });
});
