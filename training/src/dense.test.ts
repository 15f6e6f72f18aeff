/**
 * Lesion-mask deep supervision: mask → grid targets, image/mask alignment under augmentation,
 * unknown channels, and a tiny end-to-end run with --mask-weight 1 (wasm, like train.test.ts).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { loadBundle } from '../../src/core/model/index';
import { makeTransform, wholeFrameFov, DEFAULT_PREPROCESS } from '../../src/core/preprocess/index';
import { augmentBatch, type AugmentParams } from './augment';
import { pickBackend } from './backend';
import { readDataset } from './data/dataset';
import {
  DENSE_LABELS,
  augmentMasks,
  buildMaskGrid,
  createDenseHead,
  createMapCalibration,
  denseLoss,
  denseLossOnMaps,
  densePosWeights,
  disposeDenseHead,
  loadMaskGrids,
  maskBatch,
  maskCacheSize,
  poolAny,
  toFeatureGrid,
  type MaskGrid,
} from './dense';
import { fsBundle, readJsonIfExists } from './io';
import { writeSynthDataset } from './synth/writer';
import { DEFAULT_TRAIN, parseTrainArgs, train, type TrainOptions } from './train';

let root: string;
let data: string;
const quiet = { log: () => {}, progress: false };

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'fl-dense-'));
  data = path.join(root, 'data');
  await writeSynthDataset({ out: data, n: 14, seed: 5, sizes: [96], testFraction: 0, ungradable: 0 });
  await pickBackend('wasm', () => {});
}, 120_000);

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const noAug = (p: Partial<AugmentParams>): AugmentParams => ({ rotation: 0, shiftX: 0, shiftY: 0, flip: false, mirror: false, brightness: 1, gamma: 1, blurSigma: 0, ...p });

function cells(t: tf.Tensor4D, channel: number): string[] {
  const [, G, G2, K] = t.shape;
  const d = t.dataSync();
  const out: string[] = [];
  for (let y = 0; y < G; y++) for (let x = 0; x < G2; x++) if (d[(y * G2 + x) * K + channel] > 0) out.push(`${y},${x}`);
  return out;
}

describe('mask targets', () => {
  it('picks the cache side so the feature grid divides it', () => {
    expect(maskCacheSize(512)).toBe(64);
    expect(maskCacheSize(256)).toBe(64);
    expect(maskCacheSize(64)).toBe(64);
    expect(maskCacheSize(96)).toBe(96);
    expect(maskCacheSize(128)).toBe(64);
  });

  it('one photo blob lands in exactly the right feature cell (photo → model → R → G)', () => {
    // 1024² photo, no FOV found: the whole frame maps to 512², 2 photo px per model px
    const W = 1024;
    const t = makeTransform(wholeFrameFov(W, W), { ...DEFAULT_PREPROCESS, inputSize: 512 }, W, W);
    const m = new Uint8Array(W * W);
    // model x 300..310, y 100..104 → R=64: x 37..38, y 12..13 → G=16 cell (row 3, col 9)
    for (let y = 200; y < 208; y++) for (let x = 600; x < 620; x++) m[y * W + x] = 1;
    const g = buildMaskGrid({ hm: { width: W, height: W, data: m } }, [false, true, true, false], t, maskCacheSize(512));
    expect(g.size).toBe(64);
    const { masks, known } = maskBatch([g], 64);
    const grid = toFeatureGrid(masks, 16);
    expect(cells(grid, 1)).toEqual(['3,9']);
    expect(cells(grid, 0)).toEqual([]);
    expect(cells(grid, 2)).toEqual([]); // known, no mask given → all negative
    expect(Array.from(known.dataSync())).toEqual([0, 1, 1, 0]);
    tf.dispose([masks, known, grid]);
    // pos weight on the 16² grid: 1 positive of 256 cells → 255, capped at 20
    expect(densePosWeights([g], 16)).toEqual([1, 20, 1, 1]);
  });

  it('flipped / mirrored / shifted / rotated image and mask stay aligned', () => {
    const S = 128;
    const R = maskCacheSize(S);
    expect(R).toBe(64);
    const img = new Float32Array(S * S * 3);
    const mask = new Uint8Array(S * S);
    for (let y = 16; y < 24; y++) {
      for (let x = 88; x < 96; x++) {
        img.set([1, 1, 1], (y * S + x) * 3);
        mask[y * S + x] = 1;
      }
    }
    const pooled = poolAny(mask, S, R);
    const g: MaskGrid = { size: R, data: new Uint8Array(R * R * 4), known: [true, true, true, true] };
    pooled.forEach((v, i) => (g.data[i * 4 + 2] = v));
    const cases = [noAug({ flip: true }), noAug({ mirror: true }), noAug({ flip: true, mirror: true, shiftX: 6, shiftY: -10 }), noAug({ rotation: (30 * Math.PI) / 180, shiftX: 3, mirror: true })];
    const x = tf.tensor4d(img, [1, S, S, 3]);
    const before = tf.memory().numTensors;
    for (const p of cases) {
      const ai = augmentBatch(x, [p]);
      const { masks, known } = maskBatch([g], R);
      const am = augmentMasks(masks, [p], S);
      const gridM = toFeatureGrid(am, 8);
      // the image's bright pixels, pooled the same way
      const bin = tf.tidy(() => tf.cast(tf.greater(tf.slice(ai, [0, 0, 0, 0], [1, S, S, 1]), 0.5), 'float32') as tf.Tensor4D);
      const gridI = toFeatureGrid(bin, 8);
      const ci = cells(gridI, 0);
      const cm = cells(gridM, 2);
      expect(ci.length).toBeGreaterThan(0);
      if (p.rotation === 0) {
        expect(cm).toEqual(ci);
        // exact at R too: the warped mask equals the warped image pooled to R
        const imgR = poolAny(bin.dataSync(), S, R);
        const mR = am.dataSync();
        expect(Array.from(imgR)).toEqual(Array.from({ length: R * R }, (_, i) => mR[i * 4 + 2]));
      } else {
        for (const c of ci) expect(cm).toContain(c);
        expect(cm.length).toBeLessThanOrEqual(ci.length + 2);
      }
      tf.dispose([ai, masks, known, am, gridM, bin, gridI]);
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('maps the synthetic dataset masks: a positive label has positive cells, a negative one none', async () => {
    const ds = await readDataset(data);
    const items = ds.items.map((it) => ({ image: it.image, stem: it.stem, masks: it.masks, labels: it.labels }));
    const cache = path.join(root, 'maskcache');
    const params = { ...DEFAULT_PREPROCESS, inputSize: 64 };
    const r = await loadMaskGrids(items, { params, diskDir: cache, progressLabel: null });
    expect(r.failed).toEqual([]);
    expect(r.computed).toBe(items.length);
    let checked = 0;
    ds.items.forEach((it, i) => {
      const g = r.grids[i]!;
      DENSE_LABELS.forEach((l, c) => {
        if (!it.masks[l]) return;
        let n = 0;
        for (let p = 0; p < g.size * g.size; p++) n += g.data[p * 4 + c];
        if (it.labels[l] === 0) expect(n).toBe(0);
        if (it.labels[l] === 1) {
          expect(n).toBeGreaterThan(0);
          checked++;
        }
      });
    });
    expect(checked).toBeGreaterThan(3);
    // second pass: all from disk, identical
    const r2 = await loadMaskGrids(items, { params, diskDir: cache, progressLabel: null });
    expect(r2.fromDisk).toBe(items.length);
    r.grids.forEach((g, i) => {
      expect(Array.from(r2.grids[i]!.data)).toEqual(Array.from(g!.data));
      expect(r2.grids[i]!.known).toEqual(g!.known);
    });
  }, 60_000);

  it('an item without masks (unknown labels) gets no grid and no decode', async () => {
    const r = await loadMaskGrids([{ image: '/does/not/exist.jpg', stem: 'x', masks: {}, labels: { ma: NaN, hm: NaN, hex: NaN, cws: NaN } }], {
      params: { ...DEFAULT_PREPROCESS, inputSize: 64 },
      diskDir: null,
    });
    expect(r.grids).toEqual([null]);
    expect(r.failed).toEqual([]);
  });
});

describe('denseLoss', () => {
  it('items / channels without masks contribute nothing (loss and zero gradient to the aux kernel)', () => {
    const before = tf.memory().numTensors;
    const C = 6;
    const G = 4;
    const head = createDenseHead(C, 3);
    const feat = tf.randomNormal([2, G, G, C], 0, 1, 'float32', 1) as tf.Tensor4D;
    const targets = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([2, G, G, 4], 0, 1, 'float32', 2), 0.7), 'float32') as tf.Tensor4D);
    const w = [3, 2, 1, 5];
    const lossOf = (f: tf.Tensor4D, t: tf.Tensor4D, k: tf.Tensor2D) => {
      const { value, grads } = tf.variableGrads(() => denseLoss(f, head, t, k, w), [head.kernel, head.bias]);
      const out = { value: value.dataSync()[0], kernel: Array.from(grads[head.kernel.name].dataSync()), bias: Array.from(grads[head.bias.name].dataSync()) };
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const slice0 = <T extends tf.Tensor>(t: T) => tf.slice(t, 0, 1) as T;
    const known = tf.tensor2d([[1, 1, 1, 1], [0, 0, 0, 0]]);
    const both = lossOf(feat, targets, known);
    const f0 = slice0(feat);
    const t0 = slice0(targets);
    const k0 = slice0(known);
    const alone = lossOf(f0, t0, k0);
    expect(both.value).toBeGreaterThan(0);
    expect(both.value).toBeCloseTo(alone.value, 6);
    both.kernel.forEach((g, i) => expect(g).toBeCloseTo(alone.kernel[i], 6));
    // only the unknown item: no loss, exactly zero gradient
    const f1 = tf.slice(feat, 1, 1) as tf.Tensor4D;
    const t1 = tf.slice(targets, 1, 1) as tf.Tensor4D;
    const k1 = tf.slice(known, 1, 1) as tf.Tensor2D;
    const none = lossOf(f1, t1, k1);
    expect(none.value).toBe(0);
    expect(none.kernel.every((g) => g === 0)).toBe(true);
    expect(none.bias.every((g) => g === 0)).toBe(true);
    // a partly known item: the unknown channels' kernel columns get zero gradient
    const kPart = tf.tensor2d([[1, 0, 1, 0]]);
    const part = lossOf(f0, t0, kPart);
    part.kernel.forEach((g, i) => {
      if (i % 4 === 1 || i % 4 === 3) expect(g).toBe(0);
    });
    expect(part.kernel.some((g, i) => i % 4 === 0 && g !== 0)).toBe(true);
    tf.dispose([feat, targets, known, f0, t0, k0, f1, t1, k1, kPart]);
    disposeDenseHead(head);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('pulls the aux logits toward the targets (weighted BCE)', () => {
    const head = createDenseHead(2, 1);
    const feat = tf.ones([1, 2, 2, 2]) as tf.Tensor4D;
    const t = tf.zeros([1, 2, 2, 4]) as tf.Tensor4D;
    const k = tf.ones([1, 4]) as tf.Tensor2D;
    tf.tidy(() => head.bias.assign(tf.tensor1d([-20, -20, -20, -20])));
    tf.tidy(() => head.kernel.assign(tf.zeros([1, 1, 2, 4])));
    const l = denseLoss(feat, head, t, k, [1, 1, 1, 1]);
    expect(l.dataSync()[0]).toBeLessThan(1e-6);
    tf.tidy(() => head.bias.assign(tf.tensor1d([0, 0, 0, 0])));
    const l2 = denseLoss(feat, head, t, k, [1, 1, 1, 1]);
    expect(l2.dataSync()[0]).toBeCloseTo(Math.log(2), 5);
    tf.dispose([feat, t, k, l, l2]);
    disposeDenseHead(head);
  });
});

describe('denseLossOnMaps (--dense-on head)', () => {
  it('each label\'s cell loss reads only that label\'s own map, through a positive scale and an offset', () => {
    const before = tf.memory().numTensors;
    const G = 3;
    const cal = createMapCalibration(4);
    // 5 maps: the 4 lesion labels, then healthy (never supervised)
    const maps = tf.tidy(() => tf.variable(tf.randomNormal([2, G, G, 5], 0, 2, 'float32', 5), true, 'maps_under_test'));
    const targets = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([2, G, G, 4], 0, 1, 'float32', 6), 0.6), 'float32') as tf.Tensor4D);
    const known = tf.tensor2d([[1, 0, 1, 1], [1, 0, 0, 1]]);
    const { value, grads } = tf.variableGrads(() => denseLossOnMaps(maps as unknown as tf.Tensor4D, cal, targets, known, [2, 2, 2, 2]), [maps, cal.kernel, cal.bias]);
    const g = grads[maps.name].arraySync() as number[][][][];
    expect(value.dataSync()[0]).toBeGreaterThan(0);
    for (let b = 0; b < 2; b++) {
      for (let y = 0; y < G; y++) {
        for (let x = 0; x < G; x++) {
          expect(g[b][y][x][1]).toBe(0); // hm unknown in both items
          expect(g[b][y][x][4]).toBe(0); // healthy is not a lesion map
          if (b === 1) expect(g[b][y][x][2]).toBe(0); // hex unknown in item 1
          expect(g[b][y][x][0]).not.toBe(0);
        }
      }
    }
    // gradient sign: a positive cell pulls its map up, a negative cell pushes it down (scale > 0)
    const t = targets.arraySync() as number[][][][];
    for (let y = 0; y < G; y++) for (let x = 0; x < G; x++) expect(Math.sign(g[0][y][x][0])).toBe(t[0][y][x][0] ? -1 : 1);
    // the calibration is per label: the unknown label's scale and offset get no gradient
    expect(grads[cal.kernel.name].dataSync()[1]).toBe(0);
    expect(grads[cal.bias.name].dataSync()[1]).toBe(0);
    tf.dispose([value, ...Object.values(grads), maps, targets, known]);
    disposeDenseHead(cal);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses maps without the four lesion channels', () => {
    const cal = createMapCalibration(1);
    const maps = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    const t = tf.zeros([1, 2, 2, 4]) as tf.Tensor4D;
    const k = tf.ones([1, 4]) as tf.Tensor2D;
    expect(() => denseLossOnMaps(maps, cal, t, k, [1, 1, 1, 1])).toThrow(/4 lesion labels/);
    tf.dispose([maps, t, k]);
    disposeDenseHead(cal);
  });
});

describe('train --mask-weight', () => {
  function opts(out: string, extra: Partial<TrainOptions> = {}): TrainOptions {
    return { ...DEFAULT_TRAIN, data, out, size: 64, width: 4, blocks: [1, 1], epochs: 2, stage1Epochs: 1, batch: 4, seed: 3, backend: 'wasm', limit: 12, ...extra };
  }

  it('--dense-on head supervises the head\'s maps: trains, checkpoints the 2×4 calibration, exports the plain architecture', async () => {
    expect(parseTrainArgs(['--data', 'd', '--out', 'o']).denseOn).toBe('features');
    expect(parseTrainArgs(['--data', 'd', '--out', 'o', '--dense-on', 'head']).denseOn).toBe('head');
    expect(() => parseTrainArgs(['--data', 'd', '--out', 'o', '--dense-on', 'logits'])).toThrow(/dense-on/);
    const out = path.join(root, 'wh');
    const lines: string[] = [];
    const before = tf.memory().numTensors;
    const r = await train(opts(out, { maskWeight: 1, denseOn: 'head', epochs: 1 }), { log: (l) => lines.push(l), progress: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.history[0].denseLoss).toBeGreaterThan(0);
    expect(lines.join('\n')).toMatch(/the head's own maps \(head_conv3/);
    const aux = await readJsonIfExists<{ shape: number[]; kernel: number[]; bias: number[] }>(path.join(out, 'checkpoint', 'aux.json'));
    expect(aux!.shape).toEqual([4]);
    // the offsets start at logit(positive-cell rate) − mean map, not at 0
    expect(aux!.bias.some((b) => Math.abs(b) > 0.05)).toBe(true);
    const m = await loadBundle(fsBundle(r.modelDir!));
    try {
      expect((m.metadata.training as unknown as { deepSupervision?: unknown }).deepSupervision).toMatchObject({ layer: 'head_conv3', on: 'head maps' });
      expect(m.net.layers.some((l) => /dense_cal/i.test(l.name))).toBe(false);
    } finally {
      m.dispose();
    }
  }, 120_000);

  it('parses --mask-weight (default 0 = off)', () => {
    expect(parseTrainArgs(['--data', 'd', '--out', 'o']).maskWeight).toBe(0);
    expect(parseTrainArgs(['--data', 'd', '--out', 'o', '--mask-weight', '1.5']).maskWeight).toBe(1.5);
    expect(() => parseTrainArgs(['--data', 'd', '--out', 'o', '--mask-weight', 'x'])).toThrow(/mask-weight/);
  });

  it('--mask-weight 0 is the old run: same losses as no option, no masks read, no aux file', async () => {
    const a = await train(opts(path.join(root, 'w0'), { maskWeight: 0, epochs: 1 }), quiet);
    const b = await train(opts(path.join(root, 'wu'), { maskWeight: undefined, epochs: 1 }), quiet);
    expect(a.history.map((h) => h.trainLoss)).toEqual(b.history.map((h) => h.trainLoss));
    expect(a.history[0].denseLoss).toBeUndefined();
    const files = await fs.readdir(path.join(root, 'w0', 'cache', 's64'));
    expect(files.some((f) => f.endsWith('.m64'))).toBe(false);
    expect(await readJsonIfExists(path.join(root, 'w0', 'checkpoint', 'aux.json'))).toBeNull();
  }, 120_000);

  it('--mask-weight 1 trains, reports the dense loss, checkpoints the aux conv and exports a bundle without it', async () => {
    const out = path.join(root, 'w1');
    const lines: string[] = [];
    const before = tf.memory().numTensors;
    const r = await train(opts(out, { maskWeight: 1 }), { log: (l) => lines.push(l), progress: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.history).toHaveLength(2);
    for (const h of r.history) {
      expect(Number.isFinite(h.trainLoss)).toBe(true);
      expect(h.denseLoss).toBeGreaterThan(0);
    }
    expect(lines.join('\n')).toMatch(/dense loss: weight 1, aux 1×1 conv/);
    expect(lines.join('\n')).toMatch(/train loss [\d.]+ {2}dense loss [\d.]+/);
    const aux = await readJsonIfExists<{ shape: number[]; kernel: number[] }>(path.join(out, 'checkpoint', 'aux.json'));
    expect(aux!.shape[3]).toBe(4);
    expect(aux!.kernel).toHaveLength(aux!.shape.reduce((a, b) => a * b, 1));
    // exported bundle: no aux layer, same weights as the architecture without deep supervision
    expect(await readJsonIfExists(path.join(r.modelDir!, 'aux.json'))).toBeNull();
    const ref = await train(opts(path.join(root, 'ref'), { maskWeight: 0, epochs: 1 }), quiet);
    const m = await loadBundle(fsBundle(r.modelDir!));
    const mRef = await loadBundle(fsBundle(ref.modelDir!));
    try {
      // tfjs suffixes variable names per load (_8, _9...): compare without it
      const sig = (ws: { name: string; shape: readonly (number | null)[] }[]) => ws.map((w) => `${w.name.replace(/_\d+$/, '')}:${w.shape}`);
      expect(sig(m.net.weights)).toEqual(sig(mRef.net.weights));
      expect(m.net.layers.some((l) => /aux|dense_aux/i.test(l.name))).toBe(false);
      const y = tf.tidy(() => m.net.predict(tf.zeros([1, 64, 64, 3])) as tf.Tensor);
      expect(y.shape).toEqual([1, 5]);
      y.dispose();
    } finally {
      m.dispose();
      mRef.dispose();
    }
    expect((r.metadata!.training as unknown as { deepSupervision?: { maskWeight: number } }).deepSupervision?.maskWeight).toBe(1);
    // --resume keeps the aux conv
    const resumed: string[] = [];
    const r2 = await train({ ...opts(out), resume: true, epochs: 3 }, { log: (l) => resumed.push(l), progress: false });
    expect(resumed.join('\n')).toMatch(/resume: aux conv from/);
    expect(r2.history).toHaveLength(3);
    expect(r2.history[2].denseLoss).toBeGreaterThan(0);
  }, 240_000);
});
