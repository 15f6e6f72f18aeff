/**
 * End-to-end training on ~24 tiny synthetic photos (96 px, model input 64², a 2-stage compact
 * net): train → checkpoint → export → load → predict; abort + resume; repeatability; the
 * frozen-backbone stage 1 with --init. Runs on wasm with the project's gradient kernels, as the
 * real training does.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { loadBundle } from '../../src/core/model/index';
import { LABEL_IDS } from '../../src/core/types';
import { writeSynthDataset } from './synth/writer';
import { pickBackend } from './backend';
import { evaluate } from './evaluate';
import { evaluationFromReport, exportCheckpoint } from './export';
import { fsBundle, readJsonIfExists } from './io';
import { loadPreprocessed, toBatch } from './pipeline/cache';
import { DEFAULT_TRAIN, parseTrainArgs, train, type TrainOptions, type TrainState } from './train';

let root: string;
let data: string;
const quiet = { log: () => {}, progress: false };

function opts(out: string, extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    ...DEFAULT_TRAIN,
    data,
    out,
    size: 64,
    width: 4,
    blocks: [1, 1],
    epochs: 3,
    stage1Epochs: 1,
    batch: 4,
    seed: 7,
    backend: 'wasm',
    ...extra,
  };
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'fl-train-'));
  data = path.join(root, 'data');
  await writeSynthDataset({ out: data, n: 26, seed: 11, sizes: [96], testFraction: 0.15, ungradable: 0.12 });
  await pickBackend('wasm', () => {});
}, 120_000);

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('train (tiny synthetic end-to-end)', () => {
  let full: Awaited<ReturnType<typeof train>>;

  it('trains, checkpoints every epoch and exports a loadable bundle with complete metadata', async () => {
    const out = path.join(root, 'full');
    const lines: string[] = [];
    const before = tf.memory().numTensors;
    full = await train(opts(out), { log: (l) => lines.push(l), progress: false });
    // every tensor of the run released (the model included)
    expect(tf.memory().numTensors).toBe(before);
    expect(full.aborted).toBe(false);
    expect(full.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(full.history.map((h) => h.stage)).toEqual([1, 2, 2]);
    // no --init: stage 1 trains all layers at lr1
    expect(full.history[0]).toMatchObject({ trained: 'all', lr: 0.01 });
    expect(full.history[1]).toMatchObject({ trained: 'all', lr: 0.001 });
    for (const h of full.history) expect(Number.isFinite(h.trainLoss)).toBe(true);
    // the per-epoch table is printed with sens/spec/acc/AUC per label
    expect(lines.some((l) => /epoch 2\/3/.test(l) && /sens\s+spec\s+acc/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes("using 'wasm'"))).toBe(true);

    const state = await readJsonIfExists<TrainState>(path.join(out, 'checkpoint', 'state.json'));
    expect(state!.epochsDone).toBe(3);
    expect(state!.split.val.length).toBeGreaterThan(0);
    // split=test items never reach training or validation
    const rows = (await fs.readFile(path.join(data, 'labels.csv'), 'utf8')).trim().split('\n').map((l) => l.split(','));
    const [header, ...body] = rows;
    const col = (name: string) => header.indexOf(name);
    const stemOf = (r: string[]) => path.basename(r[0]).replace(/\.\w+$/, '');
    const used = [...state!.split.train, ...state!.split.val];
    const testStems = body.filter((r) => r[col('split')] === 'test' && r[col('gradable')] === '1').map(stemOf);
    const ungradable = body.filter((r) => r[col('split')] !== 'test' && r[col('gradable')] === '0').map(stemOf);
    expect(testStems.length).toBeGreaterThan(0);
    expect(ungradable.length).toBeGreaterThan(0);
    for (const s of body.filter((r) => r[col('split')] === 'test').map(stemOf)) expect(used).not.toContain(s);
    // gradable=0 photos are left out of training and validation, as evaluate leaves them out
    for (const s of ungradable) expect(used).not.toContain(s);
    expect(used.length).toBe(body.length - ungradable.length - body.filter((r) => r[col('split')] === 'test').length);

    const model = await loadBundle(fsBundle(full.modelDir!));
    const m = model.metadata;
    const best = full.history.find((h) => h.epoch === full.state.best!.epoch)!;
    expect(m.labels.map((l) => l.id)).toEqual([...LABEL_IDS]);
    for (const l of m.labels) expect(l.threshold).toBeCloseTo(best.thresholds[l.id], 10);
    expect(m.inputSize).toBe(64);
    expect(m.preprocess.inputSize).toBe(64);
    expect(m.preprocess.clahe).not.toBeNull();
    expect(m.intendedUse).toMatch(/demonstration/i);
    expect(m.intendedUse).toMatch(/synthetic/i);
    expect(m.intendedUse).toMatch(/not a medical device/i);
    expect(m.limitations.length).toBeGreaterThan(2);
    expect(m.training).toMatchObject({ epochs: 3, backend: 'wasm', counts: { train: state!.split.train.length, val: state!.split.val.length } });
    expect(m.evaluation[0].perLabel.hm?.n).toBe(state!.split.val.length);

    // predict on a preprocessed photo: probabilities for 5 labels in [0, 1]
    const item = { image: path.join(data, 'images', `${testStems[0]}.jpg`), stem: testStems[0] };
    const { images } = await loadPreprocessed([item], { params: m.preprocess, progressLabel: null });
    const x = toBatch([images[0]!], 64);
    const p = model.probabilities(x);
    const pv = Array.from(p.dataSync());
    expect(pv).toHaveLength(5);
    for (const v of pv) expect(v >= 0 && v <= 1).toBe(true);
    tf.dispose([x, p]);
    model.dispose();

    // evaluate (helper E1) on the held-out split=test images, and put its report into an exported bundle
    const evalDir = path.join(root, 'eval');
    const ev = await evaluate({ model: full.modelDir!, data, out: evalDir, split: 'test', backend: null, localization: false, log: () => {}, progressStream: null });
    expect(ev.summary.perLabel.hm?.n).toBe(testStems.length);
    const report = await readJsonIfExists<unknown>(path.join(evalDir, 'report.json'));
    const exported = await exportCheckpoint(full.modelDir!, path.join(root, 'with-eval'), { evaluation: evaluationFromReport(report) });
    expect(exported.evaluation[0].perLabel.hm?.n).toBe(testStems.length);
  });

  it('export re-saves a checkpoint as float16 with a replaced evaluation, and it still predicts the same', async () => {
    const out = path.join(root, 'exported');
    const ev = [{ dataset: 'test', description: 'unit', perLabel: { hm: { sensitivity: 1, specificity: 1, accuracy: 1, auc: 1, n: 2, positives: 1 } } }];
    const meta = await exportCheckpoint(path.join(root, 'full', 'checkpoint'), out, { float16: true, evaluation: ev, version: '9.9.9' });
    expect(meta.version).toBe('9.9.9');
    expect(meta.evaluation).toEqual(ev);
    const a = await loadBundle(fsBundle(path.join(root, 'full', 'checkpoint')));
    const b = await loadBundle(fsBundle(out));
    const x = tf.randomUniform([2, 64, 64, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const pa = a.probabilities(x).dataSync();
    const pb = b.probabilities(x).dataSync();
    pa.forEach((v, i) => expect(Math.abs(v - pb[i])).toBeLessThan(0.02));
    const shardA = (await fs.readdir(path.join(root, 'full', 'checkpoint'))).find((f) => f.endsWith('.bin'))!;
    const shardB = (await fs.readdir(out)).find((f) => f.endsWith('.bin'))!;
    expect((await fs.stat(path.join(out, shardB))).size * 2).toBe((await fs.stat(path.join(root, 'full', 'checkpoint', shardA))).size);
    x.dispose();
    a.dispose();
    b.dispose();
  });

  it('resumes an interrupted run: finished epochs kept, epoch count continues, result identical to the uninterrupted run', async () => {
    const out = path.join(root, 'resume');
    const ac = new AbortController();
    const first = await train(opts(out), {
      ...quiet,
      signal: ac.signal,
      onEpochEnd: (rec) => {
        if (rec.epoch === 1) ac.abort();
      },
    });
    expect(first.aborted).toBe(true);
    expect(first.history).toHaveLength(1);
    expect(first.modelDir).toBeNull();
    const st = await readJsonIfExists<TrainState>(path.join(out, 'checkpoint', 'state.json'));
    expect(st!.epochsDone).toBe(1);

    const second = await train({ ...opts(out), resume: true }, quiet);
    expect(second.aborted).toBe(false);
    expect(second.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    // (state.json is JSON: NaN metrics of a label without positives come back as null)
    expect(second.history[0]).toEqual(JSON.parse(JSON.stringify(first.history[0])));
    // fixed seeds + rng state in the checkpoint: the resumed run equals the uninterrupted one
    // (the optimizer is rebuilt at the stage boundary anyway, so nothing is lost at epoch 1)
    second.history.forEach((h, i) => {
      expect(h.trainLoss).toBeCloseTo(full.history[i].trainLoss, 5);
      expect(h.thresholds).toEqual(full.history[i].thresholds);
    });
    expect(second.modelDir).not.toBeNull();
  });

  it('with --init, stage 1 freezes the backbone (weights and BatchNorm statistics) and trains only the head', async () => {
    const out = path.join(root, 'init');
    const init = path.join(root, 'full', 'model');
    const r = await train(opts(out, { init, epochs: 1, stage1Epochs: 1, width: 99 /* ignored: the bundle's arch wins */ }), quiet);
    expect(r.history[0]).toMatchObject({ stage: 1, trained: 'head', lr: 0.01 });
    const a = await loadBundle(fsBundle(init));
    const b = await loadBundle(fsBundle(path.join(out, 'checkpoint')));
    const w = (m: typeof a, name: string) => m.net.getLayer(name).getWeights().map((t) => Array.from(t.dataSync()));
    expect(w(b, 'stem_conv')).toEqual(w(a, 'stem_conv'));
    expect(w(b, 'stem_bn')).toEqual(w(a, 'stem_bn')); // gamma, beta, moving mean/var
    expect(w(b, 'head_conv1')).not.toEqual(w(a, 'head_conv1'));
    expect(b.metadata.training.datasets.some((d) => d.startsWith('init:'))).toBe(true);
    a.dispose();
    b.dispose();
  });
});

describe('train without validation images', () => {
  it('keeps 0.5 thresholds and picks the latest epoch, also across a resume', async () => {
    const out = path.join(root, 'noval');
    const ac = new AbortController();
    const o = opts(out, { valFraction: 0, epochs: 2, stage1Epochs: 1 });
    const first = await train(o, { ...quiet, signal: ac.signal, onEpochEnd: () => ac.abort() });
    expect(first.state.split.val).toEqual([]);
    expect(first.state.best).toEqual({ epoch: 1, score: null });
    const r = await train({ ...o, resume: true }, quiet);
    expect(r.state.best).toEqual({ epoch: 2, score: null });
    expect(r.metadata!.labels.every((l) => l.threshold === 0.5)).toBe(true);
    expect(r.metadata!.evaluation).toEqual([]);
  });
});

describe('parseTrainArgs', () => {
  it('parses the documented options', () => {
    const o = parseTrainArgs(['--data', '/d', '--out', '/o', '--arch', 'resnet50', '--blocks', '2,2', '--lr1', '0.02', '--stage1-epochs', '3', '--float16', '--no-augment', '--val-fraction', '0.3']);
    expect(o).toMatchObject({ data: '/d', out: '/o', arch: 'resnet50', blocks: [2, 2], lr1: 0.02, lr2: 0.001, stage1Epochs: 3, float16: true, augment: false, valFraction: 0.3 });
    expect(() => parseTrainArgs(['--data', '/d', '--out', '/o', '--arch', 'vgg'])).toThrow(/--arch/);
    expect(() => parseTrainArgs(['--data', '/d', '--out', '/o', '--epochs', 'x'])).toThrow(/--epochs/);
    expect(() => parseTrainArgs(['--out', '/o'])).toThrow(/--data/);
    expect(parseTrainArgs(['--data', '/d', '--out', '/o', '--prep-workers', '2', '--preprocess-only', '--shard', '1/2'])).toMatchObject({ prepWorkers: 2, preprocessOnly: true, shard: [1, 2] });
    expect(() => parseTrainArgs(['--data', '/d', '--out', '/o', '--shard', '2/2'])).toThrow(/--shard/);
  });
});
