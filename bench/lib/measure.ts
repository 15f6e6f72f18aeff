/**
 * The measuring routine shared by the Node bench (bench/bench.ts) and the browser bench page
 * (bench/page/main.ts): same code, same stages, so browser ÷ Node ratios compare like with like.
 * Platform-free: tfjs + core only; decoding and model loading are passed in by the caller.
 *
 * Every timed step ends with a read-back (`await t.data()`), so GPU backends are measured to
 * completion, not to command submission.
 */
import * as tf from '@tensorflow/tfjs';
import { analyze } from '../../src/core/analyze';
import { gradCamFromFeatures, gradCamFromFeaturesFull } from '../../src/core/explain/grad-cam';
import { headForwardKeepingZ } from '../../src/core/explain/grad-cam-fast';
import { hiResCamFromFeatures } from '../../src/core/explain/hires-cam';
import { guidedSaliencyMaps } from '../../src/core/explain/guided-backprop';
import { guidedSaliencyRecorded, recordFeatures, type FeaturesRecord } from '../../src/core/explain/guided-pass';
import { logitTargets } from '../../src/core/explain/targets';
import { wrapModel, type FundusModel } from '../../src/core/model/fundus-model';
import { makeMetadata } from '../../src/core/model/metadata';
import { modelStats } from '../../src/core/model/stats';
import { LESION_LABEL_IDS, lesionContrastOf, type ModelMetadata, type RgbImage, type StageName } from '../../src/core/types';

export interface Stats {
  /** milliseconds */
  median: number;
  min: number;
  max: number;
  /** (max - min) / median: how noisy the number is */
  spread: number;
  n: number;
  samples: number[];
}

export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  const median = n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  const r = (v: number) => Math.round(v * 10) / 10;
  return { median: r(median), min: r(s[0]), max: r(s[n - 1]), spread: Math.round(((s[n - 1] - s[0]) / median) * 100) / 100, n, samples: samples.map(r) };
}

export interface BenchOptions {
  /** warm runs wanted (each: one whole analysis + the isolated forward / Grad-CAM / guided-backprop steps) */
  runs: number;
  /** stop adding runs once this much time was spent on warm runs (at least one run is always done) */
  budgetMs: number;
  /** lesion labels made positive (threshold 0) so the whole analysis computes k guided-backprop maps */
  k: number;
  /** skip the isolated guided-backprop step (it dominates on slow backends) */
  skipGuided?: boolean;
  /**
   * untimed rounds before the timed ones (default 10), while they take less than `warmupBudgetMs` (default 15 s) in
   * all. After a cold start an analysis takes ~10 more to settle while V8 tiers up (and deoptimises and re-optimises)
   * the JS and WebAssembly it runs: in one Node process here (wasm, demo, the bench photo), analyses 1-24 took 837,
   * 441, 397, 459, 282, 364, 324, 274, 263, 288, 252, then 192-235 ms, the gate's stage 215 -> 35 ms and the guided
   * stage 371 -> ~95 ms (.scratch run, 2026-11-27). In session 17's full run, whose timed runs began right after
   * one warm-up analysis, the Node wasm demo totals were 354, 317, 277, then ~245 ms and Chromium's 563, 569, 324,
   * 302, 353, then 212-253 ms. Those runs belong to the cold start, not to a warm median; the app's idle-time JIT
   * warm-up (src/worker/jit-warmup.ts) is there for the same reason.
   */
  warmupRuns?: number;
  warmupBudgetMs?: number;
  log?: (s: string) => void;
}

export interface ColdStart {
  /** bundle read + parse + weights on the backend */
  loadMs: number;
  /** model.warmup(): first forward, kernel/shader compilation */
  warmupMs: number;
  /** decode + the first whole analysis after warm-up */
  firstAnalysisMs: number;
  totalMs: number;
}

export interface BenchRecord {
  backend: string;
  model: string;
  inputSize: number;
  params: number;
  /** per-image multiply-accumulates of conv + dense layers (FLOPs = 2 × MACs) */
  macs: number;
  k: number;
  /** guided-backprop maps the whole analysis really computed (= positive lesion labels) */
  kActual: number;
  warmRuns: number;
  /** untimed rounds run before the timed ones */
  warmupRuns: number;
  /** stages of the whole analysis (analyze() timings, maps 'all') + decode, ms */
  stages: Partial<Record<StageName | 'decode' | 'gradability', Stats>>;
  /** isolated steps, each ending in a read-back, ms */
  /**
   * gradcam5Fast: the same with core's window-sum weights (grad-cam-fast.ts, what analyze() uses); gradcam5 = the
   * full-gradient reference; hirescam5: forward + HiResCAM for all labels (analyze({ cam: 'hirescam' }))
   */
  /**
   * guided1: one guided map with its own (recorded) forward; guidedPerLabel: what one more guided map adds to an
   * analysis, whose forward is already recorded (the head's guided gradient + the backward)
   */
  isolated: { forward: Stats; gradcam5: Stats; gradcam5Fast?: Stats; hirescam5?: Stats; guided1?: Stats; guidedPerLabel?: Stats };
  cold?: ColdStart;
  notes: string[];
}

const now = (): number => performance.now();

/** Metadata of the bench's paper ResNet50 at 512² (random weights, speed only), with the demo bundle's preprocessing. */
export function resnet50BenchMetadata(demo: Pick<ModelMetadata, 'preprocess'>): ModelMetadata {
  return makeMetadata({
    inputSize: 512,
    name: 'resnet50-random',
    version: 'bench',
    architecture: 'paper ResNet50 + 3-conv head, random weights (speed only)',
    preprocess: { ...demo.preprocess, inputSize: 512 },
  });
}

/** The model with the first `k` lesion labels at threshold 0 (always positive) and the others at 1. */
export function withPositiveLabels(model: FundusModel, k: number): FundusModel {
  const lesions = LESION_LABEL_IDS.slice(0, k) as readonly string[];
  const labels = model.metadata.labels.map((l) => ({ ...l, threshold: lesions.includes(l.id) ? 0 : 1 }));
  return wrapModel(model.net, { ...model.metadata, labels });
}

/** One forward pass (features + head + sigmoid) to a read-back. */
async function timeForward(model: FundusModel, x: tf.Tensor4D): Promise<number> {
  const t0 = now();
  const p = tf.tidy(() => tf.sigmoid(model.head.apply(model.features.apply(x, { training: false }) as tf.Tensor4D, { training: false }) as tf.Tensor));
  await p.data();
  p.dispose();
  return now() - t0;
}

/**
 * The GC5 / HR5 step: forward + the class map of every label (5 in the paper) with one backward through the head:
 * Grad-CAM through the full gradient ('full'), with the window-sum weights ('fast'), or HiResCAM. Returns
 * [probabilities, cams, peaks] (the caller reads back and disposes), or null when the head does not qualify.
 * Shared by the timed bench and the kernel profile of bench/node-webgpu.ts, so both measure the same work.
 */
export function classMapsAllStep(model: FundusModel, x: tf.Tensor4D, mode: 'full' | 'fast' | 'hirescam' = 'full'): [tf.Tensor, tf.Tensor3D, tf.Tensor] | null {
  const n = model.metadata.labels.length;
  const size = model.metadata.inputSize;
  const targets = logitTargets(Array.from({ length: n }, (_, i) => i));
  const a = tf.tidy(() => model.features.apply(x, { training: false }) as tf.Tensor4D);
  // on the last block's grid, as analyze() returns them (the upsampling to the model input is drawing: it is in
  // the whole analysis' outline stage and the guided product, not in the class maps; before session 17 this step
  // upsampled to 512² and read that back, 5 MB)
  const grid = a.shape[1] === a.shape[2] ? a.shape[1] : size;
  // 'fast' and 'hirescam' are what analyze() runs: the head's first-convolution output of the forward pass is reused
  const split = mode === 'full' ? null : headForwardKeepingZ(model.head, a);
  const p = tf.tidy(() => tf.sigmoid(split ? split.logits : (model.head.apply(a, { training: false }) as tf.Tensor)));
  const out =
    mode === 'hirescam'
      ? hiResCamFromFeatures(model.head, a, targets, grid, split?.z)
      : mode === 'fast'
        ? gradCamFromFeatures(model.head, a, targets, grid, split?.z)
        : gradCamFromFeaturesFull(model.head, a, targets, grid);
  a.dispose();
  if (split) tf.dispose(split.tensors);
  if (!out) {
    p.dispose();
    return null;
  }
  return [p, out.cams, out.peaks];
}

/**
 * The GB1 step: guided backprop for one label with its own forward, as analyze() makes it: a recorded forward of the
 * features (explain/guided-pass) and of the head (explain/headForwardKeepingZ: z and the tail's ReLU outputs), then
 * the first label's lesion-contrast map (BP/MA: dark) through the hand-written backward and the one-channel
 * first-layer gradient. Models the recorded backward has no rule for take the tf.grad path, as in analyze().
 */
export function guided1Step(model: FundusModel, x: tf.Tensor4D): tf.Tensor3D {
  const record = recordFeatures(model.features, x);
  if (!record) return guidedSaliencyMaps(model.net, x, logitTargets([0]), [firstContrast(model)], { labelsPerPass: 1 });
  const split = headForwardKeepingZ(model.head, record.output);
  try {
    return guidedPerLabelStep(model, record, split?.z);
  } finally {
    record.dispose();
    if (split) tf.dispose(split.tensors);
  }
}

/**
 * What one more guided map adds to an analysis whose forward is recorded (features and head, as analyze() keeps
 * them): the head's guided gradient (from the recorded tail when `z` is given) and the backward.
 */
export function guidedPerLabelStep(model: FundusModel, record: FeaturesRecord, z?: tf.Tensor4D): tf.Tensor3D {
  return guidedSaliencyRecorded(record, model.head, logitTargets([0]), [firstContrast(model)], { z });
}

function firstContrast(model: FundusModel) {
  return lesionContrastOf(model.metadata.labels[0].id);
}

/** {@link classMapsAllStep} to a read-back of the probabilities and the maps, in ms. */
async function timeGradCamAll(model: FundusModel, x: tf.Tensor4D, mode: 'full' | 'fast' | 'hirescam' = 'full'): Promise<number | undefined> {
  const t0 = now();
  const r = classMapsAllStep(model, x, mode);
  if (!r) return undefined;
  await Promise.all([r[0].data(), r[1].data()]);
  const dt = now() - t0;
  tf.dispose(r);
  return dt;
}

/** {@link guided1Step} to a read-back of the saliency map, in ms. */
async function timeGuided1(model: FundusModel, x: tf.Tensor4D): Promise<number> {
  const t0 = now();
  const s = guided1Step(model, x);
  await s.data();
  s.dispose();
  return now() - t0;
}

/** {@link guidedPerLabelStep} to a read-back, in ms; the forward is recorded (and read back) before the clock starts. */
async function timeGuidedPerLabel(model: FundusModel, x: tf.Tensor4D): Promise<number | undefined> {
  const record = recordFeatures(model.features, x);
  if (!record) return undefined;
  const split = headForwardKeepingZ(model.head, record.output);
  try {
    await (split ? split.logits : record.output).data();
    const t0 = now();
    const s = guidedPerLabelStep(model, record, split?.z);
    await s.data();
    s.dispose();
    return now() - t0;
  } finally {
    record.dispose();
    if (split) tf.dispose(split.tensors);
  }
}

/**
 * Cold start: load the bundle, warm up, decode and analyse the first photo.
 * Returns the model (the caller disposes it) and the timings.
 */
export async function coldStart(
  load: () => Promise<FundusModel>,
  decode: () => Promise<RgbImage>,
  k: number,
): Promise<{ model: FundusModel; cold: ColdStart }> {
  const t0 = now();
  const model = await load();
  const t1 = now();
  await model.warmup();
  const t2 = now();
  const img = await decode();
  await analyze(img, withPositiveLabels(model, k), { force: true, maps: 'all' });
  const t3 = now();
  return { model, cold: { loadMs: t1 - t0, warmupMs: t2 - t1, firstAnalysisMs: t3 - t2, totalMs: t3 - t0 } };
}

/**
 * Warm measurements of one (backend, model): `runs` rounds of [decode, whole analysis, forward,
 * forward + Grad-CAM ×5, guided backprop ×1], bounded by `budgetMs`. Checks that no tensor leaks.
 */
export async function benchModel(model: FundusModel, decode: () => Promise<RgbImage>, o: BenchOptions): Promise<BenchRecord> {
  const log = o.log ?? (() => {});
  const k = Math.max(0, Math.min(o.k, LESION_LABEL_IDS.length));
  const m = withPositiveLabels(model, k);
  const st = modelStats(model.net);
  const size = model.metadata.inputSize;
  const notes: string[] = [];
  const samples: Record<string, number[]> = {};
  const add = (name: string, v: number | undefined) => {
    if (v === undefined) return;
    (samples[name] ??= []).push(v);
  };
  const x = tf.tidy(() => tf.randomUniform([1, size, size, 3], 0, 1, 'float32', 7) as tf.Tensor4D);
  const before = tf.memory().numTensors;
  let kActual = 0;
  /** One round: decode, the whole analysis, then every isolated step; `add` records its numbers (or drops them). */
  const round = async (add: (name: string, v: number | undefined) => void): Promise<number | undefined> => {
    const t0 = now();
    const img = await decode();
    add('decode', now() - t0);
    const r = await analyze(img, m, { force: true, maps: 'all' });
    kActual = r.maps?.guidedGradCam?.length ?? 0;
    const t = r.timingsMs;
    add('gradability', t.quality);
    add('preprocess', t.preprocess);
    add('forward', t.forward);
    add('gradcam', t.gradcam);
    add('guidedBackprop', t.guidedBackprop ?? 0);
    add('outlines', t.outlines);
    add('total', t.total);
    add('iso.forward', await timeForward(m, x));
    add('iso.gradcam5', await timeGradCamAll(m, x));
    add('iso.gradcam5Fast', await timeGradCamAll(m, x, 'fast'));
    add('iso.hirescam5', await timeGradCamAll(m, x, 'hirescam'));
    if (!o.skipGuided) {
      add('iso.guided1', await timeGuided1(m, x));
      add('iso.guidedPerLabel', await timeGuidedPerLabel(m, x));
    }
    return t.total;
  };
  // untimed rounds first: the same work, its numbers dropped
  const warmupWanted = o.warmupRuns ?? 10;
  const warmupBudget = o.warmupBudgetMs ?? 15_000;
  const tWarm = now();
  let warmed = 0;
  for (; warmed < warmupWanted && (warmed === 0 || now() - tWarm < warmupBudget); warmed++) await round(() => undefined);
  if (warmed > 0) log(`  ${warmed} untimed warm-up round(s), ${Math.round(now() - tWarm)} ms`);
  const tStart = now();
  let run = 0;
  for (; run < o.runs; run++) {
    if (run > 0 && now() - tStart > o.budgetMs) {
      notes.push(`stopped after ${run} of ${o.runs} warm runs (time budget ${Math.round(o.budgetMs / 1000)} s)`);
      break;
    }
    const total = await round(add);
    log(`  run ${run + 1}: total ${Math.round(total ?? 0)} ms, forward ${Math.round(samples['iso.forward'].at(-1)!)} ms`);
  }
  const after = tf.memory().numTensors;
  if (after !== before) notes.push(`LEAK: ${after - before} tensors left after ${run} runs`);
  x.dispose();
  const stages: BenchRecord['stages'] = {};
  for (const name of ['decode', 'gradability', 'preprocess', 'forward', 'gradcam', 'guidedBackprop', 'outlines', 'total'] as const) {
    if (samples[name]) stages[name] = stats(samples[name]);
  }
  return {
    backend: tf.getBackend(),
    model: `${model.metadata.name}@${model.metadata.version}`,
    inputSize: size,
    params: st.params,
    macs: st.macs,
    k,
    kActual,
    warmRuns: run,
    warmupRuns: warmed,
    stages,
    isolated: {
      forward: stats(samples['iso.forward']),
      gradcam5: stats(samples['iso.gradcam5']),
      ...(samples['iso.gradcam5Fast'] ? { gradcam5Fast: stats(samples['iso.gradcam5Fast']) } : {}),
      ...(samples['iso.hirescam5'] ? { hirescam5: stats(samples['iso.hirescam5']) } : {}),
      ...(samples['iso.guided1'] ? { guided1: stats(samples['iso.guided1']) } : {}),
      ...(samples['iso.guidedPerLabel'] ? { guidedPerLabel: stats(samples['iso.guidedPerLabel']) } : {}),
    },
    notes,
  };
}
