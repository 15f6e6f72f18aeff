/**
 * A tiny end-to-end `evaluate`: 6 synthetic photos (one with an unknown label, one in a
 * train split) and a 4-photo CODRAS-like set (red column + boxes.csv), a random compact
 * bundle at 64², cpu backend. Checks files, keys, n counts, split filtering, localization
 * counts, both localization tables (Grad-CAM and Guided Grad-CAM) and tensor hygiene — not model
 * quality (the weights are random).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { buildCompactResNet, makeMetadata, saveBundle } from '../../src/core/model/index';
import type { EvaluationSummary } from '../../src/core/types';
import { evaluate, parseArgs } from './evaluate';
import { fsBundle } from './io';

const W = 96;
const H = 80;
let root = '';

/** Orange disc on black (a FOV the detector can find) with dark spots at given centres. */
async function photo(file: string, spots: [number, number][]): Promise<void> {
  const data = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const r = Math.hypot(x + 0.5 - W / 2, y + 0.5 - H / 2);
      if (r > 36) continue;
      let c = [200 - r, 90 - r / 2, 30];
      if (spots.some(([sx, sy]) => Math.hypot(x - sx, y - sy) < 2.5)) c = [90, 20, 10];
      data.set(c.map((v) => Math.max(0, Math.round(v))), (y * W + x) * 3);
    }
  }
  await sharp(data, { raw: { width: W, height: H, channels: 3 } }).png().toFile(file);
}

async function mask(file: string, spots: [number, number][]): Promise<void> {
  const data = Buffer.alloc(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (spots.some(([sx, sy]) => Math.hypot(x - sx, y - sy) < 2.5)) data[y * W + x] = 255;
  await mkdir(path.dirname(file), { recursive: true });
  await sharp(data, { raw: { width: W, height: H, channels: 1 } }).png().toFile(file);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = mkdtempSync(path.join(tmpdir(), 'fl-eval-'));
  // dataset A: IDRiD-like, masks for ma
  const A = path.join(root, 'idrid-like');
  await mkdir(path.join(A, 'images'), { recursive: true });
  const rows: [string, string, [number, number][]][] = [
    // stem, "ma,hm,hex,cws,healthy,split,gradable", ma spots
    ['p1', '1,0,0,0,0,test,1', [[40, 30]]],
    ['p2', '1,1,0,0,0,test,1', [[60, 50]]],
    ['p3', '0,0,1,0,0,test,1', []],
    ['p4', '0,0,0,0,1,test,1', []],
    ['p5', ',0,0,0,0,test,1', []], // ma unknown
    ['p6', '1,0,0,1,0,train,1', [[50, 40]]],
    ['p7', '0,0,0,0,1,test,0', []], // ungradable: left out by default
  ];
  const csv = ['image,ma,hm,hex,cws,healthy,split,gradable'];
  for (const [stem, labels, spots] of rows) {
    await photo(path.join(A, 'images', `${stem}.png`), spots);
    csv.push(`images/${stem}.png,${labels}`);
    if (spots.length) await mask(path.join(A, 'masks', 'ma', `${stem}.png`), spots);
  }
  await writeFile(path.join(A, 'labels.csv'), csv.join('\n') + '\n');

  // dataset B: CODRAS-like, red column, boxes, cws/healthy unknown
  const B = path.join(root, 'codras-like');
  await mkdir(path.join(B, 'images'), { recursive: true });
  const csvB = ['image,ma,hm,hex,cws,healthy,red'];
  const boxes = ['image,class,cx,cy,w,h'];
  const bRows: [string, string, [number, number][]][] = [
    ['c1', ',,0,,,1', [[40, 30]]],
    ['c2', '0,0,1,,,0', []],
    ['c3', '0,0,0,,,0', []],
    ['c4', ',,1,,,1', [[55, 45]]],
  ];
  for (const [stem, labels, spots] of bRows) {
    await photo(path.join(B, 'images', `${stem}.png`), spots);
    csvB.push(`images/${stem}.png,${labels}`);
    for (const [x, y] of spots) boxes.push(`images/${stem}.png,red,${x / W},${y / H},${8 / W},${8 / H}`);
    if (labels.split(',')[2] === '1') boxes.push(`images/${stem}.png,hex,0.5,0.5,0.2,0.2`);
  }
  await writeFile(path.join(B, 'labels.csv'), csvB.join('\n') + '\n');
  await writeFile(path.join(B, 'boxes.csv'), boxes.join('\n') + '\n');

  const net = buildCompactResNet({ inputSize: 64, width: 8, blocks: [1, 1], seed: 3 });
  const meta = makeMetadata({ inputSize: 64, name: 'tiny', architecture: 'compact-test', preprocess: { inputSize: 64, clahe: null, fovMargin: 0.02 } });
  const { weightsSha256: _ignored, ...rest } = meta;
  await saveBundle(net, rest, fsBundle(path.join(root, 'bundle')));
  net.dispose();
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const quiet = { backend: null, log: () => {}, progressStream: null } as const;

describe('evaluate (tiny end-to-end)', () => {
  it('writes report.md/json, details.json and SVGs with the right keys and n counts', async () => {
    const out = path.join(root, 'out-all');
    const before = tf.memory().numTensors;
    const r = await evaluate({ model: path.join(root, 'bundle'), data: path.join(root, 'idrid-like'), out, ...quiet });
    expect(tf.memory().numTensors).toBe(before);

    for (const f of ['report.md', 'report.json', 'details.json', 'roc.svg', 'label-distribution.svg', ...['ma', 'hm', 'hex', 'cws', 'healthy', 'dr'].map((id) => `roc-${id}.svg`)]) {
      expect(existsSync(path.join(out, f)), f).toBe(true);
    }
    const json = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as EvaluationSummary;
    // `localization` was added beside the original keys (one table per map), nothing renamed
    expect(Object.keys(json).sort()).toEqual(['dataset', 'description', 'localization', 'perLabel']);
    expect(Object.keys(json.perLabel).sort()).toEqual(['cws', 'dr', 'healthy', 'hex', 'hm', 'ma']);
    // ma unknown for p5 → n 5 with 3 positives; the others know all 6
    expect(json.perLabel.ma).toMatchObject({ n: 5, positives: 3 });
    expect(json.perLabel.hm).toMatchObject({ n: 6, positives: 1 });
    expect(json.perLabel.healthy).toMatchObject({ n: 6, positives: 1 });
    // DR: p5 has ma unknown and no other lesion → DR unknown; p1 p2 p3 p6 DR, p4 healthy
    expect(json.perLabel.dr).toMatchObject({ n: 5, positives: 4 });
    for (const m of Object.values(json.perLabel)) {
      for (const k of ['sensitivity', 'specificity', 'accuracy', 'auc', 'n', 'positives'] as const) expect(m).toHaveProperty(k);
    }
    // localization: ma truly present with a non-empty mask in p1, p2, p6
    expect(json.perLabel.ma!.pointingGameN).toBe(3);
    expect(r.localization.find((s) => s.label === 'ma')).toMatchObject({ map: 'gradcam', source: 'mask', n: 3 });
    // all four maps, each its own table; the bound and the coarse tolerance (half a cell: 64² over an 8×8 grid → 4 px)
    const tol = r.summary.localization![0].tolerancePx;
    expect(json.localization!.map((t) => [t.map, t.tolerancePx, t.grid])).toEqual([
      ['gradcam', tol, 8],
      ['guided-gradcam', tol, undefined],
      ['hirescam', tol, 8],
      ['guided-hirescam', tol, undefined],
    ]);
    const [camT, ggcT, hiT, ghiT] = json.localization!;
    expect(camT.name).toMatch(/^Grad-CAM \(eq\. 1–2, 8×8 grid\)$/);
    expect(ggcT.name).toMatch(/^Guided Grad-CAM \(eq\. 3/);
    expect(hiT.name).toMatch(/^HiResCAM \(Draelos & Carin 2020, 8×8 grid\)$/);
    expect(ghiT.name).toMatch(/^Guided HiResCAM/);
    // the guided tables say how the fine factor was made (core's default, the lesion-contrast saliency); cell maps have none
    expect([camT, ggcT, hiT, ghiT].map((t) => t.guidedSaliency)).toEqual([undefined, 'contrast', undefined, 'contrast']);
    // HiResCAM tables carry the cell bound like Grad-CAM's; the guided one does not
    expect(hiT.rows.find((x) => x.label === 'ma')).toMatchObject({ source: 'mask', n: 3, upperBoundHits: expect.any(Number) });
    expect(ghiT.rows.find((x) => x.label === 'ma')!.upperBoundHits).toBeUndefined();
    const mdAll = readFileSync(path.join(out, 'report.md'), 'utf8');
    for (const h of ['### Grad-CAM', '### Guided Grad-CAM', '### HiResCAM', '### Guided HiResCAM']) expect(mdAll).toContain(h);
    const camMa = camT.rows.find((x) => x.label === 'ma')!;
    const ggcMa = ggcT.rows.find((x) => x.label === 'ma')!;
    expect(camMa).toMatchObject({ source: 'mask', n: 3, upperBoundHits: expect.any(Number), coarse: { tolerancePx: 4 } });
    expect(ggcMa).toMatchObject({ source: 'mask', n: 3, coarse: { tolerancePx: 4 } });
    expect(ggcMa).not.toHaveProperty('upperBound');
    // one spot per mask → one connected lesion per image on the model grid
    expect(camMa.lesions).toBe(3);
    expect(camMa.reachableLesions).toBeLessThanOrEqual(3);
    expect(ggcMa).not.toHaveProperty('lesions');
    for (const row of [camMa, ggcMa]) {
      expect(row.hits).toBeLessThanOrEqual(3);
      expect(row.pointingGame).toBeCloseTo(row.hits / 3);
      expect(row.chance).toBeGreaterThan(0);
      expect(row.meanAp).toBeGreaterThan(0);
      expect(row.prevalence).toBeGreaterThan(0);
    }
    // the chance and prevalence depend on the lesion only: the same for both maps
    expect(ggcMa.chance).toBeCloseTo(camMa.chance, 12);
    expect(ggcMa.prevalence).toBeCloseTo(camMa.prevalence!, 12);
    // Table I keeps Grad-CAM's numbers (what the model card shows)
    expect(json.perLabel.ma!.pointingGame).toBeCloseTo(camMa.pointingGame, 12);

    const md = readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toContain('## Classification (paper Table I)');
    expect(md).toContain('| BP/MA (`ma`) | 5 | 3 |');
    expect(md).toContain('![ROC curves](roc.svg)');
    expect(md).toContain('### Grad-CAM (eq. 1–2, 8×8 grid)');
    expect(md).toContain('### Guided Grad-CAM (eq. 3, pixel resolution, lesion-contrast saliency)');
    expect(md).toContain('ideal cell map');
    expect(md).toContain('no --split was given'); // honest note: train images included
    expect(md).toContain('1 image(s) marked ungradable (gradable = 0) were left out');
    expect(readFileSync(path.join(out, 'roc.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
    const details = JSON.parse(readFileSync(path.join(out, 'details.json'), 'utf8'));
    expect(details.predictions).toHaveLength(6);
    expect(details.failed).toEqual([]);
  });

  it('--split and --limit select items', async () => {
    const r = await evaluate({ model: path.join(root, 'bundle'), data: path.join(root, 'idrid-like'), out: path.join(root, 'out-test'), split: 'test', ...quiet });
    expect(r.predictions.map((p) => p.stem).sort()).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
    expect(r.summary.perLabel.ma).toMatchObject({ n: 4, positives: 2 });
    const r2 = await evaluate({ model: path.join(root, 'bundle'), data: path.join(root, 'idrid-like'), out: path.join(root, 'out-lim'), limit: 2, localization: false, ...quiet });
    expect(r2.predictions).toHaveLength(2);
    expect(r2.localization).toEqual([]);
    expect(r2.summary.localization).toBeUndefined();
    // --maps gradcam: one table, no guided-backprop samples; --coarse-tolerance 0 switches the second tolerance off
    const before = tf.memory().numTensors;
    const r4 = await evaluate({ model: path.join(root, 'bundle'), data: path.join(root, 'idrid-like'), out: path.join(root, 'out-cam'), maps: ['gradcam'], coarseTolerancePx: null, ...quiet });
    expect(tf.memory().numTensors).toBe(before);
    expect(r4.summary.localization!.map((t) => t.map)).toEqual(['gradcam']);
    expect(r4.localization.every((s) => s.map === 'gradcam' && s.coarse === undefined)).toBe(true);
    expect(readFileSync(path.join(root, 'out-cam', 'report.md'), 'utf8')).not.toContain('### Guided Grad-CAM');
    // --guided-saliency abs: the unsigned fine factor of reports before 'contrast', named as such
    const r5 = await evaluate({ model: path.join(root, 'bundle'), data: path.join(root, 'idrid-like'), out: path.join(root, 'out-abs'), maps: ['guided-gradcam'], guidedSaliency: 'abs', ...quiet });
    expect(tf.memory().numTensors).toBe(before);
    expect(r5.summary.localization!.map((t) => [t.map, t.guidedSaliency])).toEqual([['guided-gradcam', 'abs']]);
    expect(r5.summary.localization![0].name).toContain('|gradient| saliency');
    const r3 = await evaluate({ model: path.join(root, 'bundle'), data: path.join(root, 'idrid-like'), out: path.join(root, 'out-ug'), split: 'test', includeUngradable: true, localization: false, ...quiet });
    expect(r3.predictions.map((p) => p.stem)).toContain('p7');
  });

  it('a red column adds the noisy-OR row; boxes give pointing-game samples', async () => {
    const out = path.join(root, 'out-codras');
    const r = await evaluate({ model: path.join(root, 'bundle'), data: path.join(root, 'codras-like'), out, ...quiet });
    expect(r.summary.perLabel.red).toMatchObject({ n: 4, positives: 2 });
    expect(r.summary.perLabel.ma).toMatchObject({ n: 2, positives: 0 });
    expect(r.summary.perLabel.cws).toMatchObject({ n: 0, positives: 0 });
    // the reader infers healthy = 0 where a lesion (or red) is 1; c3 (cws unknown) stays unknown
    expect(r.summary.perLabel.healthy).toMatchObject({ n: 3, positives: 0 });
    expect(r.table.unknownEverywhere).toEqual(['cws']);
    for (const map of ['gradcam', 'guided-gradcam', 'hirescam', 'guided-hirescam'] as const) {
      expect(r.localization.find((s) => s.map === map && s.label === 'red')).toMatchObject({ source: 'boxes', n: 2 });
      expect(r.localization.find((s) => s.map === map && s.label === 'hex')).toMatchObject({ source: 'boxes', n: 2 });
    }
    expect(r.localization.find((s) => s.map === 'gradcam' && s.label === 'red')!.upperBound).toBeDefined();
    expect(existsSync(path.join(out, 'roc-red.svg'))).toBe(true);
    const md = readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toContain('`cws` is unknown for every evaluated image');
  });

  it('CLI arguments', () => {
    expect(parseArgs(['--model', 'm', '--data', 'd', '--out', 'o', '--split', 'test', '--limit', '3', '--tolerance', '4'])).toMatchObject({
      model: 'm',
      data: 'd',
      out: 'o',
      split: 'test',
      limit: 3,
      tolerancePx: 4,
    });
    expect(() => parseArgs(['--model', 'm'])).toThrow(/required/);
    expect(() => parseArgs(['--model', 'm', '--data', 'd', '--out', 'o', '--limit', '0'])).toThrow(/positive/);
    expect(() => parseArgs(['--bogus'])).toThrow(/unknown argument/);
    const base = ['--model', 'm', '--data', 'd', '--out', 'o'];
    expect(parseArgs([...base, '--maps', 'guided-gradcam'])).toMatchObject({ maps: ['guided-gradcam'] });
    expect(parseArgs([...base, '--maps', 'gradcam, guided-gradcam', '--coarse-tolerance', '12'])).toMatchObject({ maps: ['gradcam', 'guided-gradcam'], coarseTolerancePx: 12 });
    expect(parseArgs([...base, '--maps', 'hirescam,guided-hirescam'])).toMatchObject({ maps: ['hirescam', 'guided-hirescam'] });
    expect(() => parseArgs([...base, '--maps', 'hirescam,gradcam++'])).toThrow(/got gradcam\+\+/);
    expect(parseArgs([...base, '--coarse-tolerance', '0']).coarseTolerancePx).toBeNull();
    expect(parseArgs(base).maps).toBeUndefined();
    expect(() => parseArgs([...base, '--maps', 'gradcam,cam++'])).toThrow(/cam\+\+/);
    expect(() => parseArgs([...base, '--coarse-tolerance', '-1'])).toThrow(/coarse-tolerance/);
    expect(parseArgs([...base, '--guided-saliency', 'abs'])).toMatchObject({ guidedSaliency: 'abs' });
    expect(parseArgs(base).guidedSaliency).toBeUndefined();
    expect(() => parseArgs([...base, '--guided-saliency', 'signed'])).toThrow(/contrast or abs \(got signed\)/);
  });
});
