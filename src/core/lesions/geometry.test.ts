import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { classMapsFromFeatures } from '../explain/class-maps';
import { upsampleClassMaps } from '../explain/grad-cam';
import { headForwardKeepingZ } from '../explain/grad-cam-fast';
import { logitTargets } from '../explain/targets';
import { tinyModel, TINY_SIZE as S } from '../analyze.test-fixtures';
import type { LabelMap } from '../types';
import { classMapLattice, sampleOnLattice, upsampleMap } from './geometry';

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

describe('classMapLattice / sampleOnLattice', () => {
  // model pixel (u, v) -> photo (3u - 10, 3v + 25), a 512² model grid
  const T = { inputSize: 512, photoWidth: 1500, photoHeight: 1600, scale: 3, offsetX: -10, offsetY: 25 };

  it('puts lattice point i at model coordinate 4i (16 cells, 8 points a cell): its pixel centres through the transform', () => {
    const L = classMapLattice(T, 16);
    expect(L.inputSize).toBe(129);
    // pixel centre of lattice point i -> photo; model coordinate = (photo - offset) / scale
    for (const i of [0, 1, 64, 128]) expect(((i + 0.5) * L.scale + L.offsetX - T.offsetX) / T.scale).toBeCloseTo(4 * i, 10);
    expect(classMapLattice(T, 16, 4).inputSize).toBe(65);
    expect(() => classMapLattice(T, 16, 3)).toThrow(RangeError);
    expect(() => classMapLattice(T, 0)).toThrow(RangeError);
  });

  it("samples upsampleMap's surface: at a cell centre the cell's value, and every model pixel is the bilinear blend of the four lattice points around it", () => {
    const map = randomMap(16, 16, 11);
    const lat = sampleOnLattice(map);
    const n = 129;
    // cell (i, j)'s centre is at model coordinate 32i + 16 = lattice point 8i + 4
    for (const [i, j] of [[0, 0], [5, 9], [15, 15]]) expect(lat[(8 * j + 4) * n + 8 * i + 4]).toBeCloseTo(map.data[j * 16 + i], 6);
    // no lattice square straddles a cell centre, so the surface is bilinear inside each square: blending its corners
    // gives the model grid's samples (pixel centre u + 0.5 = lattice coordinate (u + 0.5) / 4)
    const up = upsampleMap(map, 512);
    let worst = 0;
    for (let v = 0; v < 512; v++)
      for (let u = 0; u < 512; u++) {
        const x = (u + 0.5) / 4, y = (v + 0.5) / 4;
        const i = Math.floor(x), j = Math.floor(y), fx = x - i, fy = y - j;
        const at = (a: number, b: number) => lat[b * n + a];
        const blend = (at(i, j) * (1 - fx) + at(i + 1, j) * fx) * (1 - fy) + (at(i, j + 1) * (1 - fx) + at(i + 1, j + 1) * fx) * fy;
        worst = Math.max(worst, Math.abs(blend - up[v * 512 + u]));
      }
    expect(worst).toBeLessThan(1e-5);
  });

  it('multiplies by the weights, fills `out`, and refuses a non-square map or arrays of the wrong size', () => {
    const map = randomMap(4, 4, 3);
    const n = 4 * 8 + 1;
    const weights = new Float32Array(n * n).map((_, i) => (i % 3) / 2);
    const out = new Float32Array(n * n);
    expect(sampleOnLattice(map, 8, weights, out)).toBe(out);
    const plain = sampleOnLattice(map);
    for (let i = 0; i < n * n; i++) expect(out[i]).toBeCloseTo(plain[i] * weights[i], 6);
    expect(() => sampleOnLattice(randomMap(4, 3, 1))).toThrow(RangeError);
    expect(() => sampleOnLattice(map, 8, new Float32Array(5))).toThrow(RangeError);
  });
});
