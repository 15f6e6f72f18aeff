/**
 * `npm run train -- --data <dir> [--val <dir>] --arch compact|resnet50 --out <dir> [options]`
 *
 * Two-stage training of the paper (Jiang et al. §II.C): stage 1 trains the head with the backbone
 * frozen at lr 0.01, stage 2 trains all layers at lr 0.001, with class-weighted binary
 * cross-entropy (masked for unknown labels, noisy-OR for a `red` column; see loss.ts), per-label
 * threshold selection on validation after every epoch, a checkpoint (a complete bundle +
 * state.json) after every epoch, `--resume`, and the final bundle in <out>/model.
 *
 * Without --init there is no pretrained backbone: freezing a RANDOM backbone would only teach the
 * head to read random features, so stage 1 then trains ALL layers at lr1 (a from-scratch net needs
 * the larger rate first) and stage 2 continues at lr2. The paper's frozen stage 1 applies exactly
 * when --init gives the backbone meaningful weights (e.g. a model pretrained on synthetic data).
 *
 * Layout of <out>:
 *   model/        the final bundle (best validation epoch): copy it to public/models/<name>/
 *   checkpoint/   last finished epoch: bundle + state.json (what --resume continues from)
 *   best/         best epoch so far (mean validation AUC): bundle + state.json
 *   history.json  per-epoch metrics;  cache/  preprocessed uint8 images (safe to delete)
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_PREPROCESS } from '../../src/core/preprocess/index';
import { GRADCAM_LAYER_DEFAULT, HEAD_MAPS_LAYER, LOGITS_LAYER, buildCompactResNet, buildPaperResNet50, loadBundle } from '../../src/core/model/index';
import { applyLayers } from '../../src/core/model/graph';
import { auc, confusionAt, noisyOr, selectThreshold } from '../../src/core/metrics/index';
import { LABEL_IDS, LESION_LABEL_IDS, type EvaluationSummary, type LabelId, type LabelMetrics, type ModelMetadata } from '../../src/core/types';
import { readDataset, type DatasetItem } from './data/dataset';
import { DEFAULT_AUGMENT, augmentBatch, sampleAugmentParams, type AugmentOptions } from './augment';
import { pickBackend, withoutImageGradient } from './backend';
import { type ArchConfig, buildMetadata, cliPath, writeBundle } from './export';
import { readJsonIfExists, writeJsonAtomic, fsBundle } from './io';
import { computeLossWeights, trainingLoss, type LossWeights } from './loss';
import {
  augmentMasks,
  createDenseHead,
  createMapCalibration,
  denseHeadToJson,
  denseLoss,
  denseLossOnMaps,
  densePosWeights,
  disposeDenseHead,
  loadDenseHeadJson,
  loadMaskGrids,
  maskBatch,
  maskCacheSize,
  toFeatureGrid,
  type DenseHead,
  type DenseHeadJson,
  type MaskGrid,
} from './dense';
import { loadPreprocessed, toBatch } from './pipeline/cache';
import { Progress, formatDuration } from './pipeline/progress';
import { Rng } from './pipeline/rng';

// ---------------------------------------------------------------------------------------------
// Options

export interface TrainOptions {
  data: string;
  val?: string;
  out: string;
  arch: 'compact' | 'resnet50';
  /** total epochs (stage 1 + stage 2). */
  epochs: number;
  batch: number;
  size: number;
  width: number;
  blocks: number[];
  headWidth?: number;
  lr1: number;
  lr2: number;
  stage1Epochs: number;
  seed: number;
  init?: string;
  resume: boolean;
  /** use only the first N items of --data (after the seeded shuffle) — quick runs. */
  limit?: number;
  backend?: string;
  valFraction: number;
  float16: boolean;
  optimizer: 'sgd' | 'adam';
  /** false disables augmentation (tests, debugging). */
  augment: boolean | AugmentOptions;
  /** keep preprocessed images on disk under <out>/cache (default true). */
  diskCache: boolean;
  name: string;
  version: string;
  /** human-readable data description for metadata (default: the --data folder name). */
  dataName?: string;
  /** train on photos marked gradable=0 too (default: leave them out, as evaluate does). */
  includeUngradable?: boolean;
  /** only fill the preprocessing cache (this process's shard), then return without training. */
  preprocessOnly?: boolean;
  /** [k, n]: with preprocessOnly, handle items whose index % n === k. */
  shard?: [number, number];
  /** CLI: preprocess with this many processes in parallel (disk cache required). Default 1. */
  prepWorkers?: number;
  /**
   * weight w of the lesion-mask deep-supervision loss (dense.ts): total = image loss + w · dense
   * loss. 0 / undefined = off (exactly the image loss; no masks are read).
   */
  maskWeight?: number;
  /**
   * what the dense loss supervises: 'features' = an aux 1×1 conv on the Grad-CAM layer (the
   * default, 0.1.0/0.2.0); 'head' = the head's own per-label maps before pooling (dense.ts
   * denseLossOnMaps). Part of the run's definition (kept on --resume).
   */
  denseOn?: 'features' | 'head';
}

export const DEFAULT_TRAIN: Omit<TrainOptions, 'data' | 'out'> = {
  arch: 'compact',
  epochs: 10,
  batch: 4,
  size: 512,
  width: 16,
  blocks: [1, 1, 1, 1],
  lr1: 0.01,
  lr2: 0.001,
  stage1Epochs: 2,
  seed: 1,
  resume: false,
  valFraction: 0.2,
  float16: false,
  optimizer: 'sgd',
  augment: true,
  diskCache: true,
  name: 'funduslens-demo',
  version: '0.1.0',
  maskWeight: 0,
  denseOn: 'features',
};

const USAGE = `usage: npm run train -- --data <dir> --out <dir> [--val <dir>] [--arch compact|resnet50]
  [--epochs 10] [--stage1-epochs 2] [--batch 4] [--size 512] [--width 16] [--blocks 1,1,1,1] [--head-width N]
  [--lr1 0.01] [--lr2 0.001] [--optimizer sgd|adam] [--seed 1] [--init <bundle>] [--resume] [--limit N]
  [--backend node-gpu|node|wasm|cpu] [--val-fraction 0.2] [--float16] [--no-augment] [--no-disk-cache]
  [--name funduslens-demo] [--version 0.1.0] [--data-name "synthetic (seed 1)"]
  [--include-ungradable] [--mask-weight 0] (lesion-mask deep supervision; ~1 with masks) [--dense-on features|head] [--prep-workers 2] (parallel preprocessing into <out>/cache)  [--preprocess-only [--shard k/n]] (fill the cache, no training)`;

function num(v: string | undefined, name: string, dflt: number, integer = false): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'}, got "${v}"`);
  return n;
}

/** Parses CLI arguments (paths resolved against the directory npm was started from). */
export function parseTrainArgs(argv: string[]): TrainOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      val: { type: 'string' },
      out: { type: 'string' },
      arch: { type: 'string' },
      epochs: { type: 'string' },
      batch: { type: 'string' },
      size: { type: 'string' },
      width: { type: 'string' },
      blocks: { type: 'string' },
      'head-width': { type: 'string' },
      lr1: { type: 'string' },
      lr2: { type: 'string' },
      'stage1-epochs': { type: 'string' },
      seed: { type: 'string' },
      init: { type: 'string' },
      resume: { type: 'boolean', default: false },
      limit: { type: 'string' },
      backend: { type: 'string' },
      'val-fraction': { type: 'string' },
      float16: { type: 'boolean', default: false },
      optimizer: { type: 'string' },
      'no-augment': { type: 'boolean', default: false },
      'no-disk-cache': { type: 'boolean', default: false },
      name: { type: 'string' },
      version: { type: 'string' },
      'data-name': { type: 'string' },
      'preprocess-only': { type: 'boolean', default: false },
      'include-ungradable': { type: 'boolean', default: false },
      shard: { type: 'string' },
      'prep-workers': { type: 'string' },
      'mask-weight': { type: 'string' },
      'dense-on': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  if (!values.out || (!values.data && !values.resume)) throw new Error(`--data and --out are required\n${USAGE}`);
  const d = DEFAULT_TRAIN;
  const arch = (values.arch ?? d.arch) as TrainOptions['arch'];
  if (arch !== 'compact' && arch !== 'resnet50') throw new Error(`--arch must be compact or resnet50, got "${values.arch}"`);
  const optimizer = (values.optimizer ?? d.optimizer) as TrainOptions['optimizer'];
  if (optimizer !== 'sgd' && optimizer !== 'adam') throw new Error(`--optimizer must be sgd or adam`);
  const blocks = values.blocks ? values.blocks.split(',').map((s) => num(s.trim(), 'blocks', 1, true)) : d.blocks;
  return {
    data: values.data ? cliPath(values.data) : '',
    val: values.val ? cliPath(values.val) : undefined,
    out: cliPath(values.out),
    arch,
    epochs: num(values.epochs, 'epochs', d.epochs, true),
    batch: num(values.batch, 'batch', d.batch, true),
    size: num(values.size, 'size', d.size, true),
    width: num(values.width, 'width', d.width, true),
    blocks,
    headWidth: values['head-width'] ? num(values['head-width'], 'head-width', 0, true) : undefined,
    lr1: num(values.lr1, 'lr1', d.lr1),
    lr2: num(values.lr2, 'lr2', d.lr2),
    stage1Epochs: num(values['stage1-epochs'], 'stage1-epochs', d.stage1Epochs, true),
    seed: num(values.seed, 'seed', d.seed, true),
    init: values.init ? cliPath(values.init) : undefined,
    resume: !!values.resume,
    limit: values.limit ? num(values.limit, 'limit', 0, true) : undefined,
    backend: values.backend,
    valFraction: num(values['val-fraction'], 'val-fraction', d.valFraction),
    float16: !!values.float16,
    optimizer,
    augment: !values['no-augment'],
    diskCache: !values['no-disk-cache'],
    name: values.name ?? d.name,
    version: values.version ?? d.version,
    dataName: values['data-name'],
    preprocessOnly: !!values['preprocess-only'],
    includeUngradable: !!values['include-ungradable'],
    shard: values.shard ? parseShard(values.shard) : undefined,
    prepWorkers: values['prep-workers'] ? num(values['prep-workers'], 'prep-workers', 1, true) : 1,
    maskWeight: num(values['mask-weight'], 'mask-weight', d.maskWeight ?? 0),
    denseOn: parseDenseOn(values['dense-on']),
  };
}

function parseDenseOn(v: string | undefined): 'features' | 'head' {
  if (v === undefined || v === 'features' || v === 'head') return v ?? 'features';
  throw new Error(`--dense-on must be features or head, got "${v}"`);
}

function parseShard(v: string): [number, number] {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m || Number(m[1]) >= Number(m[2])) throw new Error(`--shard must be k/n with k < n, got "${v}"`);
  return [Number(m[1]), Number(m[2])];
}

// ---------------------------------------------------------------------------------------------
// State

/** Validation numbers of one label (or 'red' / 'dr') at one epoch. */
export interface ValRow extends LabelMetrics {
  threshold: number;
}

export interface EpochRecord {
  epoch: number;
  stage: 1 | 2;
  /** what stage 1 actually trained: 'head' (frozen backbone) or 'all' (no --init). */
  trained: 'head' | 'all';
  lr: number;
  trainLoss: number;
  /** mean dense (mask) loss of the epoch, unweighted; absent when --mask-weight is 0. */
  denseLoss?: number;
  valLoss: number | null;
  imagesPerSecond: number;
  seconds: number;
  /** mean validation AUC over labels with both classes present (model selection score). */
  score: number | null;
  val: Partial<Record<LabelId | 'red' | 'dr', ValRow>>;
  thresholds: Record<LabelId, number>;
}

export interface TrainState {
  version: 1;
  options: TrainOptions;
  epochsDone: number;
  rngState: number;
  history: EpochRecord[];
  best: { epoch: number; score: number | null } | null;
  wallSeconds: number;
  backend: string;
  split: { train: string[]; val: string[] };
  lossWeights: LossWeights;
  datasets: string[];
}

export interface TrainHooks {
  /** called after each epoch's checkpoint is safely written. */
  onEpochEnd?: (rec: EpochRecord, state: TrainState) => void | Promise<void>;
  /** abort between batches: the unfinished epoch is discarded, finished ones stay in the checkpoint. */
  signal?: AbortSignal;
  /** table/log lines (default stdout). */
  log?: (line: string) => void;
  /** progress bars on stderr (default true). */
  progress?: boolean;
}

export interface TrainResult {
  aborted: boolean;
  history: EpochRecord[];
  modelDir: string | null;
  metadata: ModelMetadata | null;
  state: TrainState;
}

// ---------------------------------------------------------------------------------------------
// Data

interface Sample {
  key: string;
  item: DatasetItem;
  labels: number[]; // LABEL_IDS order, NaN unknown
  red: number; // NaN unknown / absent
}

function toSample(item: DatasetItem, prefix: string): Sample {
  return {
    key: `${prefix}${item.stem}`,
    item,
    labels: LABEL_IDS.map((id) => {
      const v = item.labels[id];
      return v === undefined || v === null || Number.isNaN(v) ? NaN : Number(v);
    }),
    red: item.red === undefined || item.red === null ? NaN : Number(item.red),
  };
}

/**
 * Train/val split. Items marked split=test are never used (kept out of training AND threshold
 * selection). With --val the whole of that folder (minus its test split) is validation; else
 * items marked split=val are, or a seeded random --val-fraction of the rest.
 */
async function loadSplits(o: TrainOptions, resumeSplit: TrainState['split'] | null, log: (l: string) => void): Promise<{ train: Sample[]; val: Sample[]; datasets: string[] }> {
  const ds = await readDataset(o.data);
  const notTest = (it: DatasetItem) => (it.split ?? '').toLowerCase() !== 'test';
  // Like evaluate: photos marked gradable=0 are left out (the app refuses them; their labels describe
  // lesions that blur/exposure may have erased, i.e. label noise). --include-ungradable keeps them.
  const usable = (it: DatasetItem) => o.includeUngradable || it.extra?.gradable?.trim() !== '0';
  let pool = ds.items.filter((it) => notTest(it) && usable(it)).map((it) => toSample(it, ''));
  const excluded = ds.items.filter((it) => !notTest(it)).length;
  if (excluded) log(`data: ${excluded} item(s) with split=test left out of training and threshold selection`);
  const ungradable = ds.items.filter((it) => notTest(it) && !usable(it)).length;
  if (ungradable) log(`data: ${ungradable} item(s) marked gradable=0 left out (--include-ungradable keeps them)`);
  const splitRng = new Rng(o.seed ^ 0x5eed);
  pool = splitRng.shuffle(pool);
  if (o.limit && o.limit > 0 && pool.length > o.limit) pool = pool.slice(0, o.limit);
  // D's generator names every image synth_<n>: say "synthetic" in the metadata unless told otherwise
  const synthetic = ds.items.length > 0 && ds.items.every((it) => it.stem.startsWith('synth_'));
  const datasets = [o.dataName ?? (synthetic ? `synthetic fundus images (npm run synth; ${path.basename(o.data)})` : path.basename(o.data))];
  let train: Sample[];
  let val: Sample[];
  if (o.val) {
    const vds = await readDataset(o.val);
    val = vds.items.filter((it) => notTest(it) && usable(it)).map((it) => toSample(it, 'val:'));
    if (o.limit && o.limit > 0) val = val.slice(0, Math.max(2, Math.ceil(o.limit * o.valFraction)));
    train = pool;
    datasets.push(`${path.basename(o.val)} (validation)`);
  } else if (pool.some((s) => (s.item.split ?? '').toLowerCase() === 'val')) {
    val = pool.filter((s) => (s.item.split ?? '').toLowerCase() === 'val');
    train = pool.filter((s) => (s.item.split ?? '').toLowerCase() !== 'val');
  } else {
    const nVal = o.valFraction > 0 ? Math.max(1, Math.round(pool.length * o.valFraction)) : 0;
    val = pool.slice(0, nVal);
    train = pool.slice(nVal);
  }
  if (resumeSplit) {
    // a resumed run must validate on exactly the same images (thresholds, best-epoch choice)
    const all = new Map([...train, ...val].map((s) => [s.key, s]));
    const pick = (keys: string[]) => keys.map((k) => all.get(k)).filter((s): s is Sample => !!s);
    train = pick(resumeSplit.train);
    val = pick(resumeSplit.val);
  }
  if (train.length === 0) throw new Error(`no training images in ${o.data}`);
  return { train, val, datasets };
}

// ---------------------------------------------------------------------------------------------
// Model

function buildNet(a: ArchConfig, size: number, seed: number): tf.LayersModel {
  return a.arch === 'resnet50'
    ? buildPaperResNet50({ inputSize: size, numLabels: LABEL_IDS.length, headWidth: a.headWidth, seed })
    : buildCompactResNet({ inputSize: size, numLabels: LABEL_IDS.length, width: a.width, blocks: a.blocks, headWidth: a.headWidth, seed });
}

/**
 * Starts the head-map calibration where the cell loss is sane: offset_c = logit(p_c) − mean map_c
 * over a few training images, p_c the positive-cell rate that the positive weight implies
 * (weight = negatives / positives). With offset 0, a map whose cells sit at the photo's logit
 * (e.g. +3 on every cell of a positive photo) would start with a huge cell loss, and Adam moves an
 * offset by only ~lr per step.
 */
function initMapCalibration(net: tf.LayersModel, cal: DenseHead, images: Uint8Array[], size: number, posWeight: number[]): void {
  if (!images.length) return;
  tf.tidy(() => {
    const [maps] = applyLayers(net, toBatch(images, size), { training: false, outputs: [HEAD_MAPS_LAYER] });
    const K = posWeight.length;
    const m = tf.mean(tf.slice(maps as tf.Tensor4D, [0, 0, 0, 0], [-1, -1, -1, K]), [0, 1, 2]);
    const prior = tf.tensor1d(posWeight.map((w) => Math.log(1 / w)));
    cal.bias.assign(tf.sub(prior, m));
  });
}

/**
 * Copies weights from a bundle into `net` by layer name + shape, so an --init bundle may have a
 * different input size (the net is fully convolutional: no weight depends on it).
 */
async function loadWeightsInto(net: tf.LayersModel, bundleDir: string): Promise<ModelMetadata> {
  const src = await loadBundle(fsBundle(bundleDir));
  try {
    const byName = new Map(src.net.layers.map((l) => [l.name, l]));
    for (const layer of net.layers) {
      const ws = layer.getWeights();
      if (ws.length === 0) continue;
      const from = byName.get(layer.name);
      const fw = from?.getWeights() ?? [];
      if (!from || fw.length !== ws.length || fw.some((w, i) => w.shape.join('x') !== ws[i].shape.join('x'))) {
        throw new Error(`${bundleDir}: layer "${layer.name}" missing or shaped differently — was it trained with the same --arch/--width/--blocks/--head-width?`);
      }
      layer.setWeights(fw);
    }
    return src.metadata;
  } finally {
    src.dispose();
  }
}

/** The head = every layer after the Grad-CAM layer (after the last residual block the graph is a chain). */
function headVariables(net: tf.LayersModel): tf.Variable[] {
  const idx = net.layers.findIndex((l) => l.name === GRADCAM_LAYER_DEFAULT);
  if (idx < 0) throw new Error(`model has no layer "${GRADCAM_LAYER_DEFAULT}"`);
  return net.layers.slice(idx + 1).flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
}

function allVariables(net: tf.LayersModel): tf.Variable[] {
  return net.trainableWeights.map((w) => w.read() as tf.Variable);
}

/**
 * tfjs 4.22's MomentumOptimizer.dispose() forgets the learning-rate scalar it inherits from SGD
 * (`c`): one leaked tensor per optimizer. Release it too.
 */
function disposeOptimizer(opt: tf.Optimizer | null): void {
  if (!opt) return;
  const c = (opt as unknown as { c?: tf.Tensor }).c;
  opt.dispose();
  if (c && !c.isDisposed) c.dispose();
}

// ---------------------------------------------------------------------------------------------
// Validation

function predictLogits(net: tf.LayersModel, images: Uint8Array[], size: number, batch: number): Float32Array {
  const L = LABEL_IDS.length;
  const out = new Float32Array(images.length * L);
  for (let i = 0; i < images.length; i += batch) {
    const chunk = images.slice(i, i + batch);
    const logits = tf.tidy(() => {
      const x = toBatch(chunk, size);
      return net.apply(x, { training: false }) as tf.Tensor2D;
    });
    out.set(logits.dataSync(), i * L);
    logits.dispose();
  }
  return out;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function rowFor(scores: number[], labels: number[], threshold?: number): ValRow | null {
  const known = labels.filter((v) => !Number.isNaN(v));
  if (known.length === 0) return null;
  const positives = known.filter((v) => v === 1).length;
  const thr = threshold ?? selectThreshold(scores, labels);
  const c = confusionAt(scores, labels, thr);
  return { n: known.length, positives, auc: auc(scores, labels), threshold: thr, sensitivity: c.sensitivity, specificity: c.specificity, accuracy: c.accuracy };
}

/** Per-label validation rows with thresholds selected on this split (paper II.C), plus red and dr. */
export function validationTable(logits: Float32Array, samples: { labels: number[]; red: number }[]): { rows: EpochRecord['val']; thresholds: Record<LabelId, number>; score: number | null } {
  const L = LABEL_IDS.length;
  const n = samples.length;
  const p = (i: number, l: number) => sigmoid(logits[i * L + l]);
  const rows: EpochRecord['val'] = {};
  const thresholds = {} as Record<LabelId, number>;
  const aucs: number[] = [];
  LABEL_IDS.forEach((id, l) => {
    const scores = Array.from({ length: n }, (_, i) => p(i, l));
    const labels = samples.map((s) => s.labels[l]);
    const row = rowFor(scores, labels);
    thresholds[id] = row ? row.threshold : 0.5;
    if (row) {
      rows[id] = row;
      if (Number.isFinite(row.auc)) aucs.push(row.auc);
    }
  });
  const iMa = LABEL_IDS.indexOf('ma');
  const iHm = LABEL_IDS.indexOf('hm');
  if (samples.some((s) => !Number.isNaN(s.red))) {
    const scores = Array.from({ length: n }, (_, i) => noisyOr(p(i, iMa), p(i, iHm)));
    // red has no output (and no threshold in metadata) of its own: Youden on the noisy-OR score
    const row = rowFor(scores, samples.map((s) => s.red));
    if (row) {
      rows.red = row;
      if (Number.isFinite(row.auc)) aucs.push(row.auc);
    }
  }
  // DR = any lesion present. Truth known when some lesion (or red) is 1, or all lesions are 0.
  const lesionIdx = LESION_LABEL_IDS.map((id) => LABEL_IDS.indexOf(id));
  const drTruth = samples.map((s) => {
    if (s.red === 1 || lesionIdx.some((l) => s.labels[l] === 1)) return 1;
    if (lesionIdx.every((l) => s.labels[l] === 0)) return 0;
    return NaN;
  });
  // Score: how far the most convincing lesion output is above its own threshold (flag ⇔ > 0.5).
  const drScore = Array.from({ length: n }, (_, i) => Math.max(...lesionIdx.map((l) => 0.5 + (p(i, l) - thresholds[LABEL_IDS[l]]) / 2)));
  const dr = rowFor(drScore, drTruth, 0.5);
  if (dr) rows.dr = dr;
  const score = aucs.length ? aucs.reduce((a, b) => a + b, 0) / aucs.length : null;
  return { rows, thresholds, score };
}

function fmt(v: number | undefined, d = 3): string {
  return v === undefined || !Number.isFinite(v) ? '  -  ' : v.toFixed(d);
}

export function formatEpoch(rec: EpochRecord, total: number): string {
  const head =
    `epoch ${rec.epoch}/${total}  stage ${rec.stage} (${rec.trained === 'head' ? 'head only, backbone frozen' : 'all layers'}, lr ${rec.lr})  ` +
    `train loss ${rec.trainLoss.toFixed(4)}  ${rec.denseLoss !== undefined ? `dense loss ${rec.denseLoss.toFixed(4)}  ` : ''}val loss ${rec.valLoss === null ? '-' : rec.valLoss.toFixed(4)}  ` +
    `${rec.imagesPerSecond.toFixed(2)} img/s  ${formatDuration(rec.seconds)}  score(mean AUC) ${fmt(rec.score ?? undefined)}`;
  const lines = [head, '  label        n   pos    AUC    thr   sens   spec    acc'];
  for (const key of [...LABEL_IDS, 'red', 'dr'] as const) {
    const r = rec.val[key];
    if (!r) continue;
    const name = key === 'red' ? 'red(nOR)' : key === 'dr' ? 'dr(any)' : key;
    lines.push(`  ${name.padEnd(9)} ${String(r.n).padStart(4)} ${String(r.positives).padStart(5)}  ${fmt(r.auc)}  ${fmt(r.threshold, 2)}  ${fmt(r.sensitivity)}  ${fmt(r.specificity)}  ${fmt(r.accuracy)}`);
  }
  if (lines.length === 2) lines.push('  (no validation images)');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Checkpoints

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

/** Replaces dir with a freshly written tmp dir as atomically as a file system allows. */
async function swapDir(tmp: string, dir: string): Promise<void> {
  const old = `${dir}.old`;
  await fs.rm(old, { recursive: true, force: true });
  if (await exists(dir)) await fs.rename(dir, old);
  await fs.rename(tmp, dir);
  await fs.rm(old, { recursive: true, force: true });
}

/** The checkpoint to resume from: checkpoint/, or checkpoint.old/ when a kill hit between the renames. */
async function findCheckpoint(out: string): Promise<string | null> {
  for (const d of ['checkpoint', 'checkpoint.old']) {
    const dir = path.join(out, d);
    if (await exists(path.join(dir, 'state.json'))) return dir;
  }
  return null;
}

function evaluationFrom(rec: EpochRecord | undefined, nVal: number, datasets: string[]): EvaluationSummary[] {
  if (!rec || Object.keys(rec.val).length === 0) return [];
  const perLabel: EvaluationSummary['perLabel'] = {};
  for (const [k, r] of Object.entries(rec.val)) if (r) perLabel[k as LabelId] = { ...r };
  return [
    {
      dataset: `validation split of ${datasets.join(' + ')}`,
      description: `${nVal} validation images at epoch ${rec.epoch}; thresholds were selected on this same split, so these numbers are optimistic. Run \`npm run evaluate\` on a held-out test split for honest figures.`,
      perLabel,
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// The run

/**
 * Trains (or resumes) a model; see the file comment. Resolves when all epochs are done (final
 * bundle in <out>/model) or when `hooks.signal` aborts (then `aborted` is true and the last
 * finished epoch is in <out>/checkpoint).
 */
export async function train(opts: TrainOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  const log = hooks.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const showProgress = hooks.progress ?? true;
  const t0 = Date.now();

  // -- resume?
  let state: TrainState | null = null;
  let o = opts;
  const ck = opts.resume ? await findCheckpoint(opts.out) : null;
  if (opts.resume) {
    if (ck) {
      state = (await readJsonIfExists<TrainState>(path.join(ck, 'state.json')))!;
      // the checkpoint defines the run; only the total epoch count (and backend) may change
      o = {
        ...state.options,
        epochs: Math.max(opts.epochs, state.epochsDone),
        backend: opts.backend ?? state.options.backend,
        resume: true,
        // per-invocation switches, not part of the run's definition
        preprocessOnly: opts.preprocessOnly,
        shard: opts.shard,
        prepWorkers: opts.prepWorkers,
      };
      log(`resume: ${ck} after epoch ${state.epochsDone}/${o.epochs} (history kept: ${state.history.length} epoch(s))`);
    } else {
      log(`resume: no checkpoint in ${opts.out}; starting a new run`);
    }
  }
  if (!o.data) throw new Error('--data is required');

  const backend = await pickBackend(o.backend, (l) => log(l));
  await fs.mkdir(o.out, { recursive: true });

  // -- data
  const { train: trainSet, val: valSet, datasets } = await loadSplits(o, state?.split ?? null, log);
  log(`data: ${trainSet.length} training / ${valSet.length} validation images from ${o.data}${o.val ? ` + ${o.val}` : ''}`);
  const trainLabels = trainSet.map((s) => s.labels);
  const lossWeights = state?.lossWeights ?? computeLossWeights(trainLabels, trainSet.map((s) => s.red));
  const hasRed = lossWeights.redPos !== undefined;
  log(
    `loss weights (pos/neg): ${LABEL_IDS.map((id, l) => `${id} ${lossWeights.pos[l].toFixed(2)}/${lossWeights.neg[l].toFixed(2)}`).join(', ')}` +
      (hasRed ? `, red ${lossWeights.redPos!.toFixed(2)}/${lossWeights.redNeg!.toFixed(2)} (noisy-OR of ma, hm)` : ''),
  );

  const params = { ...DEFAULT_PREPROCESS, inputSize: o.size };
  const cacheDir = o.diskCache ? path.join(o.out, 'cache', `s${o.size}`) : null;
  const loadSet = async (set: Sample[], label: string) => {
    const r = await loadPreprocessed(
      set.map((s) => ({ image: s.item.image, stem: s.key.replace(':', '_') })),
      { params, diskDir: cacheDir, progressLabel: showProgress ? label : null },
    );
    for (const f of r.failed) log(`warning: ${f.stem} skipped (${f.error})`);
    log(`${label}: ${r.computed} preprocessed, ${r.fromDisk} from cache, ${r.failed.length} failed`);
    const keep = set.map((s, i) => ({ s, im: r.images[i] })).filter((x): x is { s: Sample; im: Uint8Array } => x.im !== null);
    return { samples: keep.map((x) => x.s), images: keep.map((x) => x.im) };
  };
  const loadMasks = async (set: Sample[], label: string) => {
    const r = await loadMaskGrids(
      set.map((s) => ({ image: s.item.image, stem: s.key.replace(':', '_'), masks: s.item.masks, labels: s.item.labels })),
      { params, diskDir: cacheDir, progressLabel: showProgress ? label : null },
    );
    for (const f of r.failed) log(`warning: masks of ${f.stem} not used (${f.error})`);
    const used = r.grids.filter((g) => g !== null).length;
    log(`${label}: ${used}/${set.length} image(s) supervise the dense loss (${r.computed} mapped, ${r.fromDisk} from cache, ${r.failed.length} failed)`);
    return r.grids;
  };
  if (o.preprocessOnly) {
    const [k, n] = o.shard ?? [0, 1];
    const mine = [...trainSet, ...valSet].filter((_, i) => i % n === k);
    await loadSet(mine, `preprocess shard ${k}/${n}`);
    if ((o.maskWeight ?? 0) > 0) await loadMasks(mine, `masks shard ${k}/${n}`);
    return { aborted: false, history: st0History(state), modelDir: null, metadata: null, state: state as TrainState };
  }
  const tr = await loadSet(trainSet, 'preprocess train');
  const va = valSet.length ? await loadSet(valSet, 'preprocess val') : { samples: [] as Sample[], images: [] as Uint8Array[] };
  if (tr.samples.length === 0) throw new Error('every training image failed to preprocess');
  const maskWeight = o.maskWeight ?? 0;
  const trMasks: (MaskGrid | null)[] | null = maskWeight > 0 ? await loadMasks(tr.samples, 'masks train') : null;
  if (trMasks && trMasks.every((g) => g === null)) log('warning: --mask-weight is set but no training image has lesion masks or negative lesion labels: the dense loss is 0');

  // -- model
  let arch: ArchConfig = o.arch === 'resnet50' ? { arch: 'resnet50', headWidth: o.headWidth } : { arch: 'compact', width: o.width, blocks: o.blocks, headWidth: o.headWidth };
  if (o.init && !state) {
    const initMeta = await readJsonIfExists<ModelMetadata>(path.join(o.init, 'metadata.json'));
    const fromInit = initMeta?.training?.archConfig as ArchConfig | undefined;
    // the weights only fit the architecture they were trained with: the bundle's record wins
    if (fromInit) {
      if (JSON.stringify(fromInit) !== JSON.stringify(arch)) log(`--init: using the init bundle's architecture ${JSON.stringify(fromInit)} (command line: ${JSON.stringify(arch)})`);
      arch = fromInit;
    }
  }
  const net = buildNet(arch, o.size, o.seed);
  if (state && ck) {
    await loadWeightsInto(net, ck);
  } else if (o.init) {
    const m = await loadWeightsInto(net, o.init);
    datasets.unshift(`init: ${m.name} ${m.version} (${(m.training?.datasets ?? []).join(', ')})`);
    log(`--init: weights from ${o.init} (${m.name} ${m.version})`);
  }
  // -- deep supervision (training only, see dense.ts): an aux 1×1 conv on the Grad-CAM layer, or
  // the head's own per-label maps through a per-label scale and offset
  let dense: { head: DenseHead; G: number; R: number; posWeight: number[]; layer: string; onMaps: boolean } | null = null;
  if (trMasks) {
    const onMaps = o.denseOn === 'head';
    const layer = onMaps ? HEAD_MAPS_LAYER : GRADCAM_LAYER_DEFAULT;
    const shape = net.getLayer(layer).outputShape as (number | null)[];
    const G = shape[1] as number;
    const C = shape[3] as number;
    const head = onMaps ? createMapCalibration(o.seed) : createDenseHead(C, o.seed);
    let restored = false;
    if (state && ck) {
      const j = await readJsonIfExists<DenseHeadJson>(path.join(ck, 'aux.json'));
      restored = !!j && loadDenseHeadJson(head, j);
      const what = onMaps ? 'head-map calibration' : 'aux conv';
      log(restored ? `resume: ${what} from ${path.join(ck, 'aux.json')}` : `resume: no usable aux.json in the checkpoint; ${what} re-initialised`);
    }
    const posWeight = densePosWeights(trMasks, G);
    if (onMaps && !restored) initMapCalibration(net, head, tr.images.slice(0, 16), o.size, posWeight);
    dense = { head, G, R: maskCacheSize(o.size), posWeight, layer, onMaps };
    log(
      `dense loss: weight ${maskWeight}, ${onMaps ? `the head's own maps (${layer}, per-label scale + offset)` : `aux 1×1 conv ${C}→4 on ${layer}`} (${G}×${G} cells, not exported), positive-cell weights ${posWeight.map((w) => w.toFixed(1)).join('/')} (ma/hm/hex/cws)`,
    );
  }
  const nParams = net.countParams();
  log(`model: ${arch.arch} ${JSON.stringify(arch)} at ${o.size}², ${nParams.toLocaleString('en')} parameters, backend ${backend}`);

  const frozenStage1 = !!o.init;
  if (!o.init && o.stage1Epochs > 0 && !state) {
    log(`no --init: a random backbone is not worth freezing, so stage 1 (${o.stage1Epochs} epoch(s)) trains ALL layers at lr1=${o.lr1}; stage 2 at lr2=${o.lr2}`);
  }

  const rng = state ? Rng.fromState(state.rngState) : new Rng(o.seed);
  const st: TrainState = state ?? {
    version: 1,
    options: { ...o, resume: false },
    epochsDone: 0,
    rngState: rng.state,
    history: [],
    best: null,
    wallSeconds: 0,
    backend,
    split: { train: trainSet.map((s) => s.key), val: valSet.map((s) => s.key) },
    lossWeights,
    datasets,
  };
  st.options.epochs = o.epochs;
  st.backend = backend;
  const wallBefore = st.wallSeconds;
  const augOpts: AugmentOptions | null = o.augment === false ? null : o.augment === true ? DEFAULT_AUGMENT : o.augment;

  const metaFor = (rec: EpochRecord | undefined) =>
    buildMetadata({
      name: o.name,
      version: o.version,
      arch,
      inputSize: o.size,
      thresholds: rec?.thresholds ?? {},
      datasets: st.datasets,
      counts: {
        train: tr.samples.length,
        val: va.samples.length,
        perLabelPositives: Object.fromEntries(LABEL_IDS.map((id, l) => [id, tr.samples.filter((s) => s.labels[l] === 1).length])),
      },
      epochs: st.epochsDone,
      backend,
      wallSeconds: st.wallSeconds,
      evaluation: evaluationFrom(rec, va.samples.length, st.datasets),
      preprocess: params,
      extra: {
        seed: o.seed,
        schedule: { stage1Epochs: o.stage1Epochs, lr1: o.lr1, lr2: o.lr2, optimizer: o.optimizer, batch: o.batch, stage1: frozenStage1 ? 'backbone frozen (--init)' : 'all layers (no --init)' },
        augmentation: augOpts,
        lossWeights,
        ...(dense ? { deepSupervision: { maskWeight, layer: dense.layer, on: dense.onMaps ? 'head maps' : 'aux conv', grid: dense.G, posWeight: dense.posWeight } } : {}),
        bestEpoch: rec?.epoch,
        history: st.history.map((h) => ({ epoch: h.epoch, stage: h.stage, lr: h.lr, trainLoss: h.trainLoss, ...(h.denseLoss !== undefined ? { denseLoss: h.denseLoss } : {}), valLoss: h.valLoss, score: h.score })),
      },
    });

  // -- epochs
  let optimizer: tf.Optimizer | null = null;
  let optimizerKey = '';
  let aborted = false;
  const L = LABEL_IDS.length;
  const redIndex = { maIndex: LABEL_IDS.indexOf('ma'), hmIndex: LABEL_IDS.indexOf('hm') };
  try {
    for (let epoch = st.epochsDone + 1; epoch <= o.epochs; epoch++) {
      const stage: 1 | 2 = epoch <= o.stage1Epochs ? 1 : 2;
      const headOnly = stage === 1 && frozenStage1;
      const lr = stage === 1 ? o.lr1 : o.lr2;
      const key = `${stage}:${headOnly}:${lr}`;
      if (key !== optimizerKey) {
        disposeOptimizer(optimizer);
        // Momentum state is not checkpointed (state.json is optimizer-free): a resumed epoch
        // starts with zero momentum, which costs a few steps, never correctness.
        optimizer = o.optimizer === 'adam' ? tf.train.adam(lr) : tf.train.momentum(lr, 0.9);
        optimizerKey = key;
      }
      const vars = headOnly ? headVariables(net) : allVariables(net);
      const epochRng = rng.fork();
      const order = epochRng.shuffle(tr.samples.map((_, i) => i));
      const nBatches = order.length >= o.batch ? Math.floor(order.length / o.batch) : 1; // drop the ragged tail: BatchNorm hates tiny batches
      const te = Date.now();
      const prog = showProgress ? new Progress(`epoch ${epoch}/${o.epochs} s${stage}`, nBatches * Math.min(o.batch, order.length)) : null;
      let lossSum = 0;
      let denseSum = 0;
      let seen = 0;
      for (let b = 0; b < nBatches; b++) {
        if (hooks.signal?.aborted) {
          aborted = true;
          break;
        }
        const idx = order.slice(b * o.batch, (b + 1) * o.batch);
        // the same draws as augment(x, epochRng, augOpts), kept so the masks get the same geometry
        const augParams = augOpts ? sampleAugmentParams(epochRng, idx.length, o.size, augOpts) : null;
        const xs = tf.tidy(() => {
          const x = toBatch(idx.map((i) => tr.images[i]), o.size);
          return augParams ? augmentBatch(x, augParams) : x;
        });
        const ys = tf.tensor2d(idx.flatMap((i) => tr.samples[i].labels), [idx.length, L]);
        const red = hasRed ? tf.tensor1d(idx.map((i) => tr.samples[i].red)) : null;
        let targets: tf.Tensor4D | null = null;
        let known: tf.Tensor2D | null = null;
        if (dense) {
          const mb = maskBatch(idx.map((i) => trMasks![i]), dense.R);
          const d = dense;
          targets = tf.tidy(() => toFeatureGrid(augParams ? augmentMasks(mb.masks, augParams, o.size) : mb.masks, d.G));
          known = mb.known;
          mb.masks.dispose();
        }
        // assigned inside the minimize closure (kept out of its tidy), read and disposed below
        let imagePart = null as tf.Scalar | null;
        let densePart = null as tf.Scalar | null;
        const cost = withoutImageGradient(xs.shape, () =>
          optimizer!.minimize(
            () => {
              if (!dense) {
                const logits = net.apply(xs, { training: !headOnly }) as tf.Tensor2D;
                return trainingLoss(logits, ys, red, lossWeights, redIndex);
              }
              // one pass for both: the Grad-CAM layer's output feeds the aux conv (or the head's maps are supervised)
              const [feat, logits] = applyLayers(net, xs, { training: !headOnly, outputs: [dense.layer, LOGITS_LAYER] });
              const img = trainingLoss(logits as tf.Tensor2D, ys, red, lossWeights, redIndex);
              const dl = (dense.onMaps ? denseLossOnMaps : denseLoss)(feat as tf.Tensor4D, dense.head, targets!, known!, dense.posWeight);
              imagePart = tf.keep(img);
              densePart = tf.keep(dl);
              return tf.add(img, tf.mul(dl, maskWeight)) as tf.Scalar;
            },
            true,
            dense ? [...vars, dense.head.kernel, dense.head.bias] : vars,
          ),
        );
        // trainLoss stays the image loss (comparable with val loss and with runs without masks)
        const lossValue = imagePart ? (await imagePart.data())[0] : cost ? (await cost.data())[0] : NaN;
        const denseValue = densePart ? (await densePart.data())[0] : NaN;
        cost?.dispose();
        tf.dispose(([imagePart, densePart, targets, known] as (tf.Tensor | null)[]).filter((t): t is tf.Tensor => t !== null));
        tf.dispose(red ? [xs, ys, red] : [xs, ys]);
        if (!Number.isFinite(lossValue) || (dense && !Number.isFinite(denseValue))) throw new Error(`loss became ${lossValue}${dense ? ` (dense ${denseValue})` : ''} at epoch ${epoch}, batch ${b + 1}: lower --lr1/--lr2`);
        lossSum += lossValue * idx.length;
        if (dense) denseSum += denseValue * idx.length;
        seen += idx.length;
        prog?.tick(idx.length, `loss ${(lossSum / seen).toFixed(4)}${dense ? ` dense ${(denseSum / seen).toFixed(4)}` : ''}`);
        // let timers / abort signals run between batches
        await new Promise((r) => setImmediate(r));
      }
      if (aborted) {
        log(`aborted during epoch ${epoch}: it is discarded; ${st.epochsDone} finished epoch(s) are in ${path.join(o.out, 'checkpoint')}`);
        break;
      }
      const trainSeconds = (Date.now() - te) / 1000;

      // -- validation: thresholds selected here, every epoch (paper II.C)
      let valLoss: number | null = null;
      let table: ReturnType<typeof validationTable> = { rows: {}, thresholds: Object.fromEntries(LABEL_IDS.map((id) => [id, 0.5])) as Record<LabelId, number>, score: null };
      if (va.samples.length) {
        const logits = predictLogits(net, va.images, o.size, Math.max(1, o.batch));
        valLoss = tf.tidy(() =>
          trainingLoss(
            tf.tensor2d(logits, [va.samples.length, L]),
            tf.tensor2d(va.samples.flatMap((s) => s.labels), [va.samples.length, L]),
            hasRed ? tf.tensor1d(va.samples.map((s) => s.red)) : null,
            lossWeights,
            redIndex,
          ).dataSync()[0],
        );
        table = validationTable(logits, va.samples);
      }
      const rec: EpochRecord = {
        epoch,
        stage,
        trained: headOnly ? 'head' : 'all',
        lr,
        trainLoss: seen ? lossSum / seen : NaN,
        ...(dense ? { denseLoss: seen ? denseSum / seen : NaN } : {}),
        valLoss,
        imagesPerSecond: seen / trainSeconds,
        seconds: (Date.now() - te) / 1000,
        score: table.score,
        val: table.rows,
        thresholds: table.thresholds,
      };
      st.history.push(rec);
      st.epochsDone = epoch;
      st.rngState = rng.state;
      st.wallSeconds = wallBefore + (Date.now() - t0) / 1000;
      // no validation (score null) -> the latest epoch wins; state.json stores the score as null then
      const bestScore = st.best?.score ?? null;
      const isBest = st.best === null || (rec.score !== null ? bestScore === null || rec.score > bestScore : bestScore === null);
      if (isBest) st.best = { epoch, score: rec.score };
      const left = o.epochs - epoch;
      log(formatEpoch(rec, o.epochs) + (isBest ? '\n  -> best so far' : '') + (left > 0 ? `\n  run ETA ~${formatDuration(left * rec.seconds)} (${left} epoch(s) left at this epoch's pace)` : ''));

      // -- checkpoint: bundle + state.json written to a tmp dir, then swapped in
      const tmp = path.join(o.out, 'checkpoint.tmp');
      await fs.rm(tmp, { recursive: true, force: true });
      await writeBundle(net, metaFor(rec), tmp);
      await writeJsonAtomic(path.join(tmp, 'state.json'), st);
      // the aux conv lives beside the bundle (never inside it), so --resume keeps it
      if (dense) await writeJsonAtomic(path.join(tmp, 'aux.json'), denseHeadToJson(dense.head));
      if (isBest) {
        const btmp = path.join(o.out, 'best.tmp');
        await fs.rm(btmp, { recursive: true, force: true });
        await fs.cp(tmp, btmp, { recursive: true });
        await swapDir(btmp, path.join(o.out, 'best'));
      }
      await swapDir(tmp, path.join(o.out, 'checkpoint'));
      await writeJsonAtomic(path.join(o.out, 'history.json'), st.history);
      await hooks.onEpochEnd?.(rec, st);
    }
  } finally {
    disposeOptimizer(optimizer);
    disposeDenseHead(dense?.head ?? null);
  }

  let modelDir: string | null = null;
  let metadata: ModelMetadata | null = null;
  if (!aborted && st.epochsDone >= o.epochs) {
    // -- final bundle: the best epoch's weights, thresholds and validation numbers
    const bestDir = path.join(o.out, 'best');
    const src = (await exists(path.join(bestDir, 'metadata.json'))) ? bestDir : path.join(o.out, 'checkpoint');
    modelDir = path.join(o.out, 'model');
    await fs.rm(modelDir, { recursive: true, force: true });
    const bestRec = st.history.find((h) => h.epoch === st.best?.epoch) ?? st.history[st.history.length - 1];
    // best epoch's weights + thresholds + validation numbers, but the WHOLE run's training summary
    const best = await loadBundle(fsBundle(src));
    try {
      const meta = metaFor(bestRec);
      if (o.float16) meta.training = { ...meta.training, weights: 'float16' };
      metadata = await writeBundle(best.net, meta, modelDir, { float16: o.float16 });
    } finally {
      best.dispose();
    }
    log(
      `done: ${st.epochsDone} epoch(s), wall ${formatDuration(st.wallSeconds)} (this process ${formatDuration((Date.now() - t0) / 1000)}); ` +
        `final bundle = epoch ${bestRec?.epoch ?? st.epochsDone} (mean val AUC ${fmt(bestRec?.score ?? undefined)}) -> ${modelDir}${o.float16 ? ' (float16)' : ''}`,
    );
    log(`thresholds: ${metadata.labels.map((l) => `${l.id} ${l.threshold.toFixed(3)}`).join(', ')}`);
  }
  net.dispose();
  return { aborted, history: st.history, modelDir, metadata, state: st };
}

function st0History(state: TrainState | null): EpochRecord[] {
  return state?.history ?? [];
}

/**
 * --prep-workers N: N−1 child processes (same runtime flags, e.g. tsx's loader) fill the disk
 * cache for shards 1..N−1 while this process does shard 0; training then reads every image from
 * the cache. Preprocessing a photo costs ~0.4 s CPU at 512², which is a large share of a short run.
 */
async function parallelPreprocess(argv: string[], opts: TrainOptions): Promise<void> {
  const n = opts.prepWorkers ?? 1;
  const { spawn } = await import('node:child_process');
  const script = process.argv[1];
  const children = Array.from({ length: n - 1 }, (_, i) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [...process.execArgv, script, ...argv, '--preprocess-only', '--shard', `${i + 1}/${n}`, '--prep-workers', '1'], {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: process.env,
      });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`preprocessing shard ${i + 1}/${n} exited with ${code}`))));
    }),
  );
  await train({ ...opts, preprocessOnly: true, shard: [0, n] }, { progress: true });
  await Promise.all(children);
}

async function main(argv: string[]): Promise<void> {
  const opts = parseTrainArgs(argv);
  if (!opts.preprocessOnly && (opts.prepWorkers ?? 1) > 1) {
    if (!opts.diskCache) throw new Error('--prep-workers needs the disk cache (drop --no-disk-cache)');
    await parallelPreprocess(argv, opts);
  }
  const ac = new AbortController();
  // First Ctrl-C: finish nothing more, keep finished epochs; second: exit now.
  process.once('SIGINT', () => {
    process.stderr.write('\nSIGINT: stopping after this batch (finished epochs are checkpointed; --resume continues)\n');
    ac.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  const r = await train(opts, { signal: ac.signal });
  if (r.aborted) process.exitCode = 130;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`train failed: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
