/**
 * Round trip of the app's annotation tool (issue 7) into training: the labels.csv files the
 * app exports — one annotator's (odd file names: commas, quotes, unicode, a line break,
 * spaces) and a consensus with an undecided cell — are read by readDataset and accepted by
 * `npm run train` (its argument parser + one tiny epoch). Training may not import app code,
 * so the CSVs come from the golden files that src/services/annotations/*.test.ts prove the
 * exporters write byte for byte.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { writeSynthDataset } from '../synth/writer';
import { pickBackend } from '../backend';
import { parseTrainArgs, train } from '../train';
import { readDataset } from './dataset';

const FIXTURES = path.resolve(__dirname, '../../../src/services/annotations/fixtures');
let root: string;
let synthImages: string[];

/** Copy synthetic photos in under the given names (the photos' own labels do not matter here). */
async function dataset(dir: string, csvFixture: string, names: string[], sub: '' | 'images'): Promise<void> {
  await fs.mkdir(path.join(dir, sub), { recursive: true });
  await fs.copyFile(path.join(FIXTURES, csvFixture), path.join(dir, 'labels.csv'));
  await Promise.all(names.map((n, i) => fs.copyFile(synthImages[i % synthImages.length], path.join(dir, sub, n))));
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'fl-annot-'));
  await writeSynthDataset({ out: path.join(root, 'synth'), n: 8, seed: 5, sizes: [96] });
  synthImages = (await fs.readdir(path.join(root, 'synth', 'images'))).sort().map((f) => path.join(root, 'synth', 'images', f));
}, 120_000);

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const ODD = ['plain.jpg', 'with,comma.jpg', 'say "cheese".jpg', '视网膜 左眼.jpg', 'new\nline.jpg', 'trailing space .jpg', 'café, "ñ" & co.jpg', 'two  spaces.jpg'];

describe('labels.csv exported by the annotation tool', () => {
  it('readDataset reads every odd file name and the labels; the extra columns are kept as extras', async () => {
    const dir = path.join(root, 'odd');
    await dataset(dir, 'odd-names.labels.csv', ODD, 'images');
    const ds = await readDataset(dir);
    expect(ds.items.map((i) => path.basename(i.image))).toEqual(ODD);
    for (const it of ds.items) expect(path.dirname(it.image)).toBe(path.join(dir, 'images'));
    const lab = (n: string) => ds.items.find((i) => path.basename(i.image) === n)!.labels;
    expect(lab('say "cheese".jpg')).toEqual({ ma: 1, hm: 1, hex: 0, cws: 0, healthy: 0 });
    expect(lab('with,comma.jpg')).toEqual({ ma: 0, hm: 0, hex: 0, cws: 0, healthy: 1 });
    expect(lab('café, "ñ" & co.jpg')).toEqual({ ma: 1, hm: 1, hex: 1, cws: 1, healthy: 0 });
    expect(lab('new\nline.jpg').cws).toBe(1);
    expect(ds.counts.healthy).toEqual({ positive: 3, negative: 5, unknown: 0 });
    expect(ds.items[0].extra).toMatchObject({ gradable: '1', annotator: 'Ана Müller, "AM"', labelled_at: '2026-11-26T06:00:00.000Z', seconds: '3.0', suggested: '' });
  });

  it('a consensus labels.csv: an undecided cell is read as unknown (NaN), healthy stays consistent', async () => {
    const dir = path.join(root, 'consensus');
    await dataset(dir, 'consensus.labels.csv', ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg'], '');
    const ds = await readDataset(dir);
    const d = ds.items.find((i) => i.stem === 'd')!;
    expect(d.labels.ma).toBe(1);
    expect(d.labels.cws).toBeNaN();
    expect(d.labels.healthy).toBe(0);
    expect(ds.items.find((i) => i.stem === 'c')!.labels).toEqual({ ma: 0, hm: 0, hex: 0, cws: 0, healthy: 1 });
    expect(ds.counts.cws.unknown).toBe(1);
    expect(d.extra).toMatchObject({ rule: 'majority', adjudicated: 'ma', votes_ma: '1/2' });
  });

  it('`npm run train` arguments on the exported folder: parses, trains one tiny epoch and writes a bundle', async () => {
    const dir = path.join(root, 'odd');
    const out = path.join(root, 'run');
    const opts = parseTrainArgs(['--data', dir, '--out', out, '--epochs', '1', '--stage1-epochs', '1', '--size', '32', '--width', '2', '--blocks', '1', '--batch', '4', '--limit', '8', '--backend', 'cpu', '--no-augment', '--no-disk-cache']);
    expect(opts).toMatchObject({ data: dir, out, epochs: 1, size: 32, limit: 8, augment: false, diskCache: false });
    await pickBackend('cpu', () => {});
    const before = tf.memory().numTensors;
    const lines: string[] = [];
    const res = await train(opts, { log: (l) => lines.push(l), progress: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(res.aborted).toBe(false);
    expect(res.history).toHaveLength(1);
    expect(Number.isFinite(res.history[0].trainLoss)).toBe(true);
    expect(res.state.split.train.length + res.state.split.val.length).toBe(8);
    await expect(fs.stat(path.join(res.modelDir!, 'metadata.json'))).resolves.toBeTruthy();
  });
});
