import { beforeAll, describe, expect, it } from 'vitest';
import type { PhotoTransform } from '../../../src/core/types';
import { classificationTable, crossLabelAuc, drTruth, labelCounts, toLabelMetrics, type PredictionRow } from './classification';
import * as tf from '@tensorflow/tfjs';
import { upsampleAndNormalise } from '../../../src/core/explain/index';
import {
  boxToModel,
  cellCentreBound,
  defaultTolerancePx,
  maskToModel,
  maskTransform,
  pointingChance,
  reachableLesions,
  scoreAgainstBoxes,
  scoreAgainstMask,
  summariseLocalization,
  toLocalizationTables,
} from './localization';
import { renderMarkdown } from './markdown';
import { distributionSvg, rocSvg, xmlEscape } from './svg';

const N = Number.NaN;
const IDS = ['ma', 'hm', 'hex', 'cws', 'healthy'] as const;
const T = { ma: 0.5, hm: 0.5, hex: 0.5, cws: 0.5, healthy: 0.5 };

function row(stem: string, truth: number[], probs: number[], red?: number): PredictionRow {
  const r: PredictionRow = { stem, truth: {}, probabilities: {}, red };
  IDS.forEach((id, i) => {
    r.truth[id] = truth[i];
    r.probabilities[id] = probs[i];
  });
  return r;
}

describe('classification table', () => {
  const rows = [
    row('a', [1, 0, 0, 0, 0], [0.9, 0.1, 0.2, 0.1, 0.1]), // DR, flagged by ma
    row('b', [0, 0, 0, 0, 1], [0.2, 0.1, 0.2, 0.1, 0.9]), // healthy, nothing flagged
    row('c', [0, 1, 1, 0, 0], [0.1, 0.4, 0.7, 0.1, 0.2]), // DR, flagged by hex; hm missed
    row('d', [0, 0, 0, 0, 1], [0.1, 0.6, 0.1, 0.1, 0.6]), // healthy, hm false positive
    row('e', [N, N, 0, N, N], [0.3, 0.3, 0.1, 0.1, 0.5], 1), // CODRAS-like: red=1, ma/hm unknown
    row('f', [0, 0, 0, N, N], [0.1, 0.1, 0.1, 0.1, 0.5], 0), // red=0, cws unknown → DR unknown
  ];
  const t = classificationTable(rows, IDS, T);

  it('per-label n and positives exclude unknown cells', () => {
    expect(t.rows.ma).toMatchObject({ n: 5, positives: 1, tp: 1, fp: 0 });
    expect(t.rows.hm).toMatchObject({ n: 5, positives: 1, tp: 0, fn: 1, fp: 1 });
    expect(t.rows.cws).toMatchObject({ n: 4, positives: 0 });
    expect(t.rows.cws!.sensitivity).toBeNaN();
    expect(t.rows.cws!.auc).toBeNaN();
    expect(t.rows.hex!.auc).toBe(1);
  });

  it('DR truth from partial labels and the any-flag decision', () => {
    expect(rows.map((r) => drTruth(r, ['ma', 'hm', 'hex', 'cws']))).toEqual([1, 0, 1, 0, 1, N]);
    // a, c, e are DR (e through red); predicted DR: a (ma), c (hex), d (hm); e has nothing ≥ 0.5
    expect(t.rows.dr).toMatchObject({ n: 5, positives: 3, tp: 2, fn: 1, fp: 1, tn: 1 });
  });

  it('red row: decision ma OR hm flag, AUC from the noisy-OR', () => {
    // only e (red 1) and f (red 0) know red; e noisy-OR 1−0.7·0.7 = 0.51 > f 0.19
    expect(t.rows.red).toMatchObject({ n: 2, positives: 1, tp: 0, fn: 1, tn: 1 });
    expect(t.rows.red!.auc).toBe(1);
  });

  it('LabelMetrics carries only the EvaluationSummary fields (+ threshold)', () => {
    const m = toLabelMetrics(t.rows.ma!);
    expect(Object.keys(m).sort()).toEqual(['accuracy', 'auc', 'n', 'positives', 'sensitivity', 'specificity', 'threshold']);
  });

  it('label counts for the distribution chart', () => {
    expect(labelCounts(rows, ['ma', 'red'])).toEqual([
      { id: 'ma', positives: 1, negatives: 4, unknown: 1 },
      { id: 'red', positives: 1, negatives: 1, unknown: 4 },
    ]);
  });
});

describe('cross-label AUC (does a lesion output answer for its own lesion?)', () => {
  // ma output that has learnt "diseased": high on every photo with any lesion
  const rows = [
    row('p1', [1, 0, 0, 0, 0], [0.9, 0.1, 0.1, 0.1, 0]),
    row('p2', [1, 1, 0, 0, 0], [0.6, 0.9, 0.1, 0.1, 0]),
    row('h1', [0, 0, 0, 0, 1], [0.1, 0.1, 0.1, 0.1, 1]),
    row('h2', [0, 0, 0, 0, 1], [0.2, 0.1, 0.1, 0.1, 1]),
    row('n1', [0, 1, 0, 0, 0], [0.8, 0.9, 0.1, 0.1, 0]), // hm only: ma output fires
    row('n2', [0, 0, 1, 0, 0], [0.5, 0.1, 0.9, 0.1, 0]), // hex only
    row('u', [N, 1, 0, 0, 0], [0.95, 0.9, 0.1, 0.1, 0]), // ma unknown: left out of ma's row
  ];
  const cross = crossLabelAuc(rows, IDS);

  it('separates lesion-free negatives from negatives with each other lesion', () => {
    const ma = cross.find((r) => r.label === 'ma')!;
    expect(ma.positives).toBe(2);
    expect(ma.lesionFree).toEqual({ n: 2, auc: 1 });
    // positives 0.9, 0.6 vs n1 0.8: one of two pairs ranked right
    expect(ma.withOther.hm).toEqual({ n: 1, auc: 0.5 });
    // vs n2 0.5: both right
    expect(ma.withOther.hex).toEqual({ n: 1, auc: 1 });
    expect(ma.withOther.cws!.n).toBe(0);
    expect(ma.withOther.cws!.auc).toBeNaN();
    expect(cross.map((r) => r.label)).toEqual(['ma', 'hm', 'hex', 'cws']);
    // hm: positives p2, n1, u (truth 1) against lesion-free h1, h2
    expect(cross.find((r) => r.label === 'hm')!.positives).toBe(3);
  });

  it('renders a report section naming each group and its size', () => {
    const md = renderMarkdown(
      {
        modelName: 'm@1', architecture: 'a', inputSize: 64, preprocess: {}, backend: 'cpu', dataset: 'd', dataDir: 'd', split: 'test', images: 7, failed: [], date: 'now',
        tolerancePx: 4, toleranceNote: 'x', maps: [], msPerImage: 1, charts: { rocAll: 'roc.svg', rocPerLabel: {}, distribution: 'd.svg' }, order: [], names: { hm: 'HM' }, notes: [], crossLabel: cross,
      },
      { rows: {}, unknownEverywhere: [] },
      [],
    );
    expect(md).toContain('### Does each lesion output answer for its own lesion?');
    expect(md).toContain('vs negatives with HM');
    expect(md).toMatch(/\| ma \(`ma`\) \| 2 \| 1\.000 \(n = 2\) \| — \| 0\.500 \(n = 1\) \| 1\.000 \(n = 1\) \|$/m);
  });
});

describe('localization helpers', () => {
  // u = (x + 10) / 2, v = y / 2 on a 50² model grid
  const tr: PhotoTransform = { inputSize: 50, photoWidth: 100, photoHeight: 80, scale: 2, offsetX: -10, offsetY: 0 };

  it('maps a photo mask to model pixels by "any" through the transform', () => {
    const mask = new Uint8Array(100 * 80);
    for (let y = 30; y < 34; y++) for (let x = 20; x < 24; x++) mask[y * 100 + x] = 1;
    const m = maskToModel(mask, 100, 80, tr);
    const fg: number[] = [];
    m.forEach((v, i) => v && fg.push(i));
    expect(fg).toEqual([15 * 50 + 15, 15 * 50 + 16, 16 * 50 + 15, 16 * 50 + 16]);
    // a single photo pixel still survives (microaneurysm case)
    const one = new Uint8Array(100 * 80);
    one[41 * 100 + 61] = 1;
    const m1 = maskToModel(one, 100, 80, tr);
    expect(m1.reduce((s, v) => s + v, 0)).toBe(1);
    expect(m1[20 * 50 + 35]).toBe(1);
    // a lesion outside the square crop is dropped, not clamped onto the border
    const outside = new Uint8Array(100 * 80);
    outside[79 * 100 + 99] = 1;
    expect(maskToModel(outside, 100, 80, tr).reduce((s, v) => s + v, 0)).toBe(0);
  });

  it('a mask stored at half the photo resolution lands on the same model pixels; another aspect ratio is refused', () => {
    const half = new Uint8Array(50 * 40);
    for (let y = 15; y < 17; y++) for (let x = 10; x < 12; x++) half[y * 50 + x] = 1; // photo 20..23 × 30..33
    expect(maskTransform(tr, 100, 80)).toBe(tr);
    const m = maskToModel(half, 50, 40, maskTransform(tr, 50, 40));
    const fg: number[] = [];
    m.forEach((v, i) => v && fg.push(i));
    expect(fg).toEqual([15 * 50 + 15, 15 * 50 + 16, 16 * 50 + 15, 16 * 50 + 16]);
    expect(() => maskTransform(tr, 50, 50)).toThrow(/aspect ratio/);
  });

  it('maps normalised boxes to model pixels', () => {
    const b = boxToModel({ cx: 0.5, cy: 0.5, w: 0.2, h: 0.25 }, tr);
    // photo box x 40..60, y 30..50 → u 25..35, v 15..25
    expect(b).toEqual({ x0: 25, y0: 15, x1: 35, y1: 25 });
  });

  it('scores a map against a mask and summarises', () => {
    const S = 20;
    const mask = new Uint8Array(S * S);
    mask[5 * S + 5] = 1;
    const good = new Float32Array(S * S);
    good[5 * S + 6] = 1;
    const bad = new Float32Array(S * S);
    bad[15 * S + 15] = 1;
    const s1 = scoreAgainstMask('a', 'ma', good, S, mask, 1)!;
    const s2 = scoreAgainstMask('b', 'ma', bad, S, mask, 1)!;
    expect(s1.hit).toBe(true);
    expect(s2.hit).toBe(false);
    expect(scoreAgainstMask('c', 'ma', good, S, new Uint8Array(S * S), 1)).toBeNull();
    const [sum] = summariseLocalization([s1, s2]);
    expect(sum).toMatchObject({ label: 'ma', source: 'mask', n: 2, hits: 1, emptyMaps: 0, pointingGame: 0.5 });
    const empty = scoreAgainstMask('d', 'ma', new Float32Array(S * S), S, mask, 100)!;
    expect(empty).toMatchObject({ hit: false, emptyMap: true });
    expect(sum.meanPrevalence).toBeCloseTo(1 / 400);
    expect(sum.chance).toBeCloseTo(5 / 400); // tolerance 1 around one lesion pixel
  });

  it('pointing-game chance: dilated lesion area over the FOV', () => {
    const S = 20;
    const mask = new Uint8Array(S * S);
    mask[10 * S + 10] = 1;
    // a disc of radius 1 around one pixel = 5 pixels of 400
    expect(pointingChance(S, 1, { mask })).toBeCloseTo(5 / 400);
    expect(pointingChance(S, 0, { mask })).toBeCloseTo(1 / 400);
    // FOV = left half only: the lesion pixels inside it over 200
    const fov = new Float32Array(S * S);
    for (let y = 0; y < S; y++) for (let x = 0; x < 10; x++) fov[y * S + x] = 1;
    expect(pointingChance(S, 1, { mask }, fov)).toBeCloseTo(1 / 200); // only (9, 10) is in the FOV
    // a 4×4 box (pixel centres 2.5..5.5 inside [2, 6)) with tolerance 0 covers 16 pixels
    expect(pointingChance(S, 0, { boxes: [{ x0: 2, y0: 2, x1: 6, y1: 6 }] })).toBeCloseTo(16 / 400);
  });

  it('default tolerance is 0.1 disc diameter (≈ 8 px at 512² with a full-frame FOV)', () => {
    expect(defaultTolerancePx(512, 0)).toBeCloseTo(7.9, 5);
    expect(defaultTolerancePx(512, 0.05)).toBeLessThan(7.9);
  });
});

describe('Grad-CAM resolution bound and the second map', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  // 64² model grid, 4×4 cells of 16 px: cell centres at 8, 24, 40, 56 (continuous coordinates)
  const S = 64;
  const G = 4;
  const one = (x: number, y: number) => {
    const m = new Uint8Array(S * S);
    m[y * S + x] = 1;
    return m;
  };

  it('cellCentreBound: a lesion near a cell centre can be hit, one at a cell corner cannot below half a cell', () => {
    // pixel (8, 8) has its centre at (8.5, 8.5), 0.71 px from the centre of cell (0, 0)
    expect(cellCentreBound(S, G, 1, { mask: one(8, 8) })).toBe(true);
    expect(cellCentreBound(S, G, 0.5, { mask: one(8, 8) })).toBe(false);
    // pixel (16, 16) sits at the corner of four cells: 10.6 px from the nearest centre (24, 24)
    expect(cellCentreBound(S, G, 7.6, { mask: one(16, 16) })).toBe(false);
    expect(cellCentreBound(S, G, 10.7, { mask: one(16, 16) })).toBe(true);
    // the image corner pixel (0, 0): 10.6 px from (8, 8) — same distance, and still found
    expect(cellCentreBound(S, G, 10.6, { mask: one(0, 0) })).toBe(false);
    expect(cellCentreBound(S, G, 10.7, { mask: one(0, 0) })).toBe(true);
    // a box [30, 34]²: 8.49 px from the centres (24, 24) and (40, 40)
    expect(cellCentreBound(S, G, 8, { boxes: [{ x0: 30, y0: 30, x1: 34, y1: 34 }] })).toBe(false);
    expect(cellCentreBound(S, G, 8.5, { boxes: [{ x0: 30, y0: 30, x1: 34, y1: 34 }] })).toBe(true);
    // a box over a cell centre is hit at tolerance 0
    expect(cellCentreBound(S, G, 0, { boxes: [{ x0: 20, y0: 20, x1: 30, y1: 30 }] })).toBe(true);
    expect(cellCentreBound(S, G, 100, { mask: new Uint8Array(S * S) })).toBe(false);
    expect(() => cellCentreBound(S, 0, 1, { mask: one(1, 1) })).toThrow(RangeError);
  });

  it('reachableLesions counts connected lesions near a cell centre, one by one', () => {
    const m = new Uint8Array(S * S);
    m[8 * S + 8] = 1; // A: 0.71 px from the centre (8, 8)
    for (const y of [16, 17]) for (const x of [16, 17]) m[y * S + x] = 1; // B: ≥ 9.2 px from every centre
    for (let x = 30; x <= 40; x++) m[40 * S + x] = 1; // C: a line through the centre (40, 40)
    m[50 * S + 50] = 1; // D: two diagonal neighbours = ONE lesion (8-connected), 7.8 px from (56, 56)
    m[51 * S + 51] = 1;
    expect(reachableLesions(S, G, 2, m)).toEqual({ lesions: 4, reachable: 2 });
    expect(reachableLesions(S, G, 8, m)).toEqual({ lesions: 4, reachable: 3 });
    expect(reachableLesions(S, G, 9.3, m)).toEqual({ lesions: 4, reachable: 4 });
    expect(reachableLesions(S, G, 5, new Uint8Array(S * S))).toEqual({ lesions: 0, reachable: 0 });
  });

  it('the bound agrees with a real upsampled cell map (core upsampleAndNormalise): the best cell lit, scored by the pointing game', async () => {
    // One-hot 4×4 coarse maps upsampled to 64² exactly as Grad-CAM is; the lit cell is the
    // cell containing the lesion, i.e. the ideal cell-level map.
    const upsampledOneHot = async (ci: number, cj: number): Promise<Float32Array> => {
      const coarse = new Float32Array(G * G);
      coarse[cj * G + ci] = 1;
      const c = tf.tensor3d(coarse, [1, G, G]);
      const { maps, peaks } = upsampleAndNormalise(c, S);
      const data = (await maps.data()) as Float32Array;
      tf.dispose([c, maps, peaks]);
      return data;
    };
    const before = tf.memory().numTensors;
    // lesion 2×2 around the centre of cell (1, 2): pixels 23..24 × 39..40
    const centred = new Uint8Array(S * S);
    for (const y of [39, 40]) for (const x of [23, 24]) centred[y * S + x] = 1;
    const hitMap = await upsampledOneHot(1, 2);
    const sc = scoreAgainstMask('c', 'ma', hitMap, S, centred, 2, undefined, { camGrid: G })!;
    expect(sc).toMatchObject({ hit: true, upperBoundHit: true });
    // lesion in the corner of cell (1, 1), 6 px from its edges: the lit cell's peak is ~9 px away
    const corner = one(17, 17);
    const missMap = await upsampledOneHot(1, 1);
    const sm = scoreAgainstMask('k', 'ma', missMap, S, corner, 4, undefined, { camGrid: G, coarseTolerancePx: G * 2.5 })!;
    expect(sm).toMatchObject({ hit: false, upperBoundHit: false });
    expect(sm.coarse).toMatchObject({ tolerancePx: 10, hit: true, upperBoundHit: true });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('Guided Grad-CAM samples: pixel-precise peaks score, no cell bound; summaries are kept apart per map', () => {
    const mask = one(17, 17);
    const sharp = new Float32Array(S * S);
    sharp[18 * S + 17] = 1; // 1 px off the microaneurysm
    const g = scoreAgainstMask('k', 'ma', sharp, S, mask, 4, undefined, { map: 'guided-gradcam', coarseTolerancePx: 16 })!;
    expect(g).toMatchObject({ map: 'guided-gradcam', hit: true, coarse: { tolerancePx: 16, hit: true } });
    expect(g.upperBoundHit).toBeUndefined();
    expect(g.coarse!.upperBoundHit).toBeUndefined();
    const far = new Float32Array(S * S);
    far[60 * S + 60] = 1;
    const g2 = scoreAgainstMask('m', 'ma', far, S, mask, 4, undefined, { map: 'guided-gradcam', coarseTolerancePx: 16 })!;
    expect(g2).toMatchObject({ hit: false, coarse: { hit: false } });
    // a Grad-CAM sample of the same lesion (default map), bound at 4 px: miss
    const c = scoreAgainstMask('k', 'ma', sharp, S, mask, 4, undefined, { camGrid: G, coarseTolerancePx: 16 })!;
    expect(c).toMatchObject({ map: 'gradcam', hit: true, upperBoundHit: false, lesions: 1, reachableLesions: 0, coarse: { hit: true, upperBoundHit: true } });
    expect(g.lesions).toBeUndefined();
    const b = scoreAgainstBoxes('k', 'red', sharp, S, [{ x0: 16, y0: 16, x1: 19, y1: 19 }], 4, undefined, { camGrid: G })!;
    expect(b).toMatchObject({ map: 'gradcam', source: 'boxes', hit: true, upperBoundHit: false });

    const sums = summariseLocalization([g, g2, c, b]);
    const gg = sums.find((s) => s.map === 'guided-gradcam')!;
    expect(gg).toMatchObject({ label: 'ma', n: 2, hits: 1, pointingGame: 0.5, coarse: { tolerancePx: 16, hits: 1, pointingGame: 0.5 } });
    expect(gg.upperBound).toBeUndefined();
    expect(gg.coarse!.upperBound).toBeUndefined();
    const gc = sums.find((s) => s.map === 'gradcam' && s.source === 'mask')!;
    expect(gc).toMatchObject({ n: 1, hits: 1, upperBoundHits: 0, upperBound: 0, lesions: 1, reachableLesions: 0, coarse: { hits: 1, upperBoundHits: 1, upperBound: 1 } });
    // a box sample has no coarse score: its summary must not claim one
    expect(sums.find((s) => s.source === 'boxes')!.coarse).toBeUndefined();

    const tables = toLocalizationTables(sums, ['gradcam', 'guided-gradcam'], 4, G);
    expect(tables.map((t) => [t.map, t.grid, t.rows.length])).toEqual([
      ['gradcam', G, 2],
      ['guided-gradcam', undefined, 1],
    ]);
    expect(tables[0].name).toBe('Grad-CAM (eq. 1–2, 4×4 grid)');
    expect(tables[1].rows[0]).toMatchObject({ label: 'ma', source: 'mask', n: 2, hits: 1, chance: expect.any(Number), prevalence: 1 / (S * S) });
    expect(tables[1].rows[0]).not.toHaveProperty('upperBound');

    // report.md: one table per map, clearly named; the ideal-cell column only for Grad-CAM
    const md = renderMarkdown(
      {
        modelName: 'm@1',
        architecture: 'a',
        inputSize: S,
        preprocess: {},
        backend: 'cpu',
        dataset: 'd',
        dataDir: 'd',
        split: 'test',
        images: 2,
        failed: [],
        date: 'now',
        tolerancePx: 4,
        toleranceNote: 'x',
        coarseTolerancePx: 16,
        coarseToleranceNote: 'half a Grad-CAM cell',
        maps: ['gradcam', 'guided-gradcam'],
        camGrid: G,
        msPerImage: 1,
        charts: { rocAll: 'roc.svg', rocPerLabel: {}, distribution: 'd.svg' },
        order: [],
        names: {},
        notes: [],
      },
      { rows: {}, unknownEverywhere: [] },
      sums,
    );
    expect(md).toContain('### Grad-CAM (eq. 1–2, 4×4 grid)');
    expect(md).toContain('### Guided Grad-CAM (eq. 3, pixel resolution)');
    expect(md).toContain('| ma (`ma`) | mask | 1 | 1/1 = 100.0% |');
    expect(md).toMatch(/\| mask \| 1 \| 1\/1 = 100\.0% \| [\d.]+% \| 0\/1 = 0\.0% \| 0\/1 = 0\.0% \|/); // Grad-CAM row with its bound and lesion count
    expect(md).toMatch(/\| mask \| 2 \| 1\/2 = 50\.0% \| [\d.]+% \| 0 \|/); // Guided Grad-CAM row: no bound column
    expect(md.match(/hits @ 16 px/g)).toHaveLength(2);
  });
});

describe('SVG charts', () => {
  it('ROC SVG: one polyline per evaluable series, legend with AUC, escaped text', () => {
    const svg = rocSvg(
      [
        { name: 'BP/MA <1>', colour: '#ff69b4', roc: { fpr: [0, 0, 1], tpr: [0, 1, 1], thresholds: [Infinity, 0.5, 0.1] }, auc: 1, point: [0, 1] },
        { name: 'CWS', colour: '#0000ff', roc: { fpr: [N, N], tpr: [0, 1], thresholds: [Infinity, 0.3] }, auc: N },
      ],
      'ROC & co',
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline class="roc"/g)).toHaveLength(1);
    expect(svg).toContain('BP/MA &lt;1&gt;  AUC 1.000');
    expect(svg).toContain('CWS  not evaluable');
    expect(svg).toContain('ROC &amp; co');
    expect(svg).not.toContain('NaN');
  });

  it('distribution SVG has one bar segment per non-zero count', () => {
    const svg = distributionSvg(
      [
        { id: 'ma', positives: 3, negatives: 2, unknown: 0 },
        { id: 'red', positives: 1, negatives: 0, unknown: 4 },
      ],
      'Labels',
    );
    expect(svg.match(/<rect class="(positives|negatives|unknown)"/g)).toHaveLength(4);
    expect(svg).toContain('data-label="red" data-count="4"');
    expect(xmlEscape(`a"b'c`)).toBe('a&quot;b&apos;c');
  });
});
