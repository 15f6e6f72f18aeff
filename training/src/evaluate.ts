/**
 * `npm run evaluate -- --model <bundle dir> --data <dataset dir> --out <dir> [--split test]
 *    [--limit N] [--backend wasm|cpu|node|node-gpu] [--tolerance px] [--coarse-tolerance px]
 *    [--maps gradcam,guided-gradcam,hirescam,guided-hirescam] [--no-localization]`
 *
 * Scores a model bundle on a dataset the way the app would use it: preprocessing strictly via
 * src/core/preprocess with the bundle's own parameters, decisions at the bundle's thresholds,
 * explanation maps from src/core/explain — Grad-CAM (paper eq. 1–2) and Guided Grad-CAM
 * (eq. 3), each masked to the field of view exactly as analyze() shows them. Writes report.md,
 * report.json (EvaluationSummary), details.json and SVG charts (ROC per label = paper Fig. 5,
 * label distribution = Fig. 4).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { classMapsFromFeatures, guidedGradCam, guidedSaliencyMaps, guidedSaliencyRecorded, logitTargets, recordFeatures, type FeaturesRecord } from '../../src/core/explain/index';
import { fovMaskOnGrid } from '../../src/core/lesions/geometry';
import { loadBundle, type FundusModel } from '../../src/core/model/index';
import { preprocess } from '../../src/core/preprocess/index';
import type { EvaluationSummary, GuidedSaliencyMode, LabelId, LesionLabelId } from '../../src/core/types';
import { LESION_LABEL_IDS, lesionContrastOf } from '../../src/core/types';
import { pickBackend } from './backend';
import { readDataset, type DatasetItem } from './data/dataset';
import { fsBundle, writeJsonAtomic } from './io';
import { decodeImage, decodeMask } from './pipeline/decode';
import { Progress } from './pipeline/progress';
import { classificationTable, crossLabelAuc, labelCounts, toLabelMetrics, type ClassificationTable, type PredictionRow } from './report/classification';
import {
  boxToModel,
  defaultTolerancePx,
  isCellMap,
  MAP_KINDS,
  maskToModel,
  maskTransform,
  scoreAgainstBoxes,
  scoreAgainstMask,
  summariseLocalization,
  toLocalizationTables,
  type LocalizationSample,
  type LocalizationSummary,
  type MapKind,
} from './report/localization';
import { renderMarkdown } from './report/markdown';
import { distributionSvg, FALLBACK_COLOURS, rocSvg, type RocSeries } from './report/svg';

export interface EvaluateOptions {
  model: string;
  data: string;
  out: string;
  /** keep only items whose `split` column equals this; undefined = every item */
  split?: string;
  limit?: number;
  /** backend name for pickBackend; null = leave the current tfjs backend alone (tests) */
  backend?: string | null;
  /** pointing-game tolerance in model pixels; default 0.1 disc diameter */
  tolerancePx?: number;
  /**
   * second, coarser pointing-game tolerance (model px), reported beside the stated one; default
   * half a Grad-CAM cell (16 px at 512²); 0 or null = not scored
   */
  coarseTolerancePx?: number | null;
  /** maps to score (default all four): a guided map costs one guided-backprop pass per annotated label (shared by both guided maps) */
  maps?: readonly MapKind[];
  /** guided maps' fine factor, as analyze({ guidedSaliency }) (default 'contrast'); 'abs' reproduces reports before it */
  guidedSaliency?: GuidedSaliencyMode;
  /** false skips localization */
  localization?: boolean;
  /** include items whose `gradable` column is 0 (default false: the app refuses such photos, and the paper excluded them) */
  includeUngradable?: boolean;
  /** progress/info lines (default: stderr) */
  log?: (line: string) => void;
  /** progress bar stream (default process.stderr; null = silent) */
  progressStream?: NodeJS.WriteStream | null;
}

export interface EvaluateResult {
  summary: EvaluationSummary;
  table: ClassificationTable;
  localization: LocalizationSummary[];
  predictions: PredictionRow[];
  files: string[];
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

interface LocTarget {
  /** the reported label ('red' = max of the ma and hm maps) */
  label: LesionLabelId | 'red';
  /** model label indices whose maps are combined (max) */
  indices: number[];
  mask?: string;
  boxes?: { cx: number; cy: number; w: number; h: number }[];
}

/** What this item can be localized against: labels truly present with a mask or boxes. */
function locTargets(item: DatasetItem, labelIds: readonly LabelId[]): LocTarget[] {
  const out: LocTarget[] = [];
  const boxesOf = (cls: string) => item.boxes.filter((b) => b.class === cls).map((b) => ({ cx: b.cx, cy: b.cy, w: b.w, h: b.h }));
  for (const l of LESION_LABEL_IDS) {
    const idx = labelIds.indexOf(l);
    if (idx < 0 || item.labels[l] !== 1) continue;
    const mask = item.masks[l];
    const boxes = boxesOf(l);
    if (mask) out.push({ label: l, indices: [idx], mask });
    else if (boxes.length) out.push({ label: l, indices: [idx], boxes });
  }
  const iMa = labelIds.indexOf('ma');
  const iHm = labelIds.indexOf('hm');
  const redBoxes = boxesOf('red');
  if (item.red === 1 && redBoxes.length && iMa >= 0 && iHm >= 0) out.push({ label: 'red', indices: [iMa, iHm], boxes: redBoxes });
  return out;
}

/** How {@link evaluateItem} localizes. */
interface LocSettings {
  /** maps to score; empty = no localization */
  maps: readonly MapKind[];
  tolerancePx: number;
  coarseTolerancePx: number | null;
  /** side of Grad-CAM's grid (A's spatial side) */
  camGrid: number;
  guidedSaliency: GuidedSaliencyMode;
}

/** Evaluate one image: probabilities for all labels and localization samples. */
async function evaluateItem(
  model: FundusModel,
  item: DatasetItem,
  labelIds: readonly LabelId[],
  loc: LocSettings,
): Promise<{ probabilities: number[]; samples: LocalizationSample[] }> {
  const meta = model.metadata;
  const S = meta.inputSize;
  const img = await decodeImage(item.image);
  const { input, transform, fov } = preprocess(img, meta.preprocess);
  const targets = loc.maps.length ? locTargets(item, labelIds) : [];
  const samples: LocalizationSample[] = [];
  const held: tf.Tensor[] = [input];
  let record: FeaturesRecord | null = null;
  try {
    if (targets.length === 0) {
      const p = tf.tidy(() => model.probabilities(tf.expandDims(input, 0) as tf.Tensor4D));
      held.push(p);
      return { probabilities: Array.from(await p.data()), samples };
    }
    // Only the labels annotated on this image are explained (one target each), so guided
    // backprop — the expensive part — runs for those alone, batched by core's labelsPerPass.
    const indices = [...new Set(targets.flatMap((t) => t.indices))];
    const explainTargets = logitTargets(indices, indices.map((i) => labelIds[i]));
    const x = tf.expandDims(input, 0) as tf.Tensor4D;
    held.push(x);
    // One forward of the features serves the logits, both class maps and the guided maps, as in analyze().
    const wantGuided = loc.maps.includes('guided-gradcam') || loc.maps.includes('guided-hirescam');
    record = wantGuided ? recordFeatures(model.features, x) : null;
    const a = record ? record.output : tf.tidy(() => model.features.apply(x, { training: false }) as tf.Tensor4D);
    if (!record) held.push(a);
    const logits = tf.tidy(() => model.head.apply(a, { training: false }) as tf.Tensor2D);
    held.push(logits);
    const g = classMapsFromFeatures('gradcam', model.head, a, explainTargets, S);
    held.push(g.cams, g.peaks);
    const flat: Partial<Record<MapKind, Float32Array>> = {};
    if (loc.maps.includes('gradcam')) flat.gradcam = (await g.cams.data()) as Float32Array;
    let hires: tf.Tensor3D | null = null;
    if (loc.maps.includes('hirescam') || loc.maps.includes('guided-hirescam')) {
      // through the same core switch as analyze({ cam: 'hirescam' })
      const h = classMapsFromFeatures('hirescam', model.head, a, explainTargets, S);
      held.push(h.cams, h.peaks);
      hires = h.cams;
      if (loc.maps.includes('hirescam')) flat.hirescam = (await hires.data()) as Float32Array;
    }
    if (wantGuided) {
      // eq. 3 exactly as analyze() builds it: one guided saliency, times each class map.
      const contrast = loc.guidedSaliency === 'contrast' ? indices.map((i) => lesionContrastOf(labelIds[i])) : undefined;
      const sal = record ? guidedSaliencyRecorded(record, model.head, explainTargets, contrast) : guidedSaliencyMaps(model.net, x, explainTargets, contrast);
      held.push(sal);
      if (loc.maps.includes('guided-gradcam')) {
        const ggc = guidedGradCam(sal, g.cams);
        held.push(ggc);
        flat['guided-gradcam'] = (await ggc.data()) as Float32Array;
      }
      if (hires && loc.maps.includes('guided-hirescam')) {
        const ghc = guidedGradCam(sal, hires);
        held.push(ghc);
        flat['guided-hirescam'] = (await ghc.data()) as Float32Array;
      }
    }
    const probabilities = Array.from(await logits.data(), sigmoid);
    // The app multiplies every map by this FOV mask before showing it: a peak on the black
    // border or the square padding is an artefact of zero input, so it is scored away too.
    const fovWeights = fovMaskOnGrid(fov, transform, S);
    const mapOf = (all: Float32Array, t: LocTarget): Float32Array => {
      const out = new Float32Array(S * S);
      for (const i of t.indices) {
        const k = indices.indexOf(i);
        const m = all.subarray(k * S * S, (k + 1) * S * S);
        for (let p = 0; p < out.length; p++) if (m[p] > out[p]) out[p] = m[p];
      }
      for (let p = 0; p < out.length; p++) out[p] *= fovWeights[p];
      return out;
    };
    const coarse = loc.coarseTolerancePx ?? undefined;
    for (const t of targets) {
      let maskModel: Uint8Array | null = null;
      if (t.mask) {
        const m = await decodeMask(t.mask);
        maskModel = maskToModel(m.data, m.width, m.height, maskTransform(transform, m.width, m.height));
      }
      const boxes = t.boxes?.map((b) => boxToModel(b, transform));
      for (const kind of loc.maps) {
        const map = mapOf(flat[kind]!, t);
        // The cell bound describes Grad-CAM's grid; Guided Grad-CAM is pixel-resolution.
        const o = { map: kind, coarseTolerancePx: coarse, camGrid: isCellMap(kind) ? loc.camGrid : undefined };
        let s: LocalizationSample | null = null;
        if (maskModel) s = scoreAgainstMask(item.stem, t.label, map, S, maskModel, loc.tolerancePx, fovWeights, o);
        else if (boxes) s = scoreAgainstBoxes(item.stem, t.label, map, S, boxes, loc.tolerancePx, fovWeights, o);
        if (s) samples.push(s);
      }
    }
    return { probabilities, samples };
  } finally {
    tf.dispose(held);
    record?.dispose();
  }
}

function rowColour(model: FundusModel, id: string, i: number): string {
  const spec = model.metadata.labels.find((l) => l.id === id);
  if (spec?.colour) return spec.colour;
  if (id === 'dr') return '#000000';
  if (id === 'red') return '#9d0208';
  return FALLBACK_COLOURS[i % FALLBACK_COLOURS.length];
}

/** Runs the whole evaluation and writes the report files into `o.out`. */
export async function evaluate(o: EvaluateOptions): Promise<EvaluateResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const backend = o.backend === null ? tf.getBackend() : await pickBackend(o.backend ?? undefined, log);
  // folded like the app's model (same outputs to float rounding, fewer kernels)
  const model = await loadBundle(fsBundle(o.model), { foldBatchNorm: true });
  try {
    const meta = model.metadata;
    const labelIds = meta.labels.map((l) => l.id);
    const thresholds: Partial<Record<LabelId, number>> = {};
    for (const l of meta.labels) thresholds[l.id] = l.threshold;
    const ds = await readDataset(o.data);
    let items = ds.items;
    if (o.split !== undefined) items = items.filter((it) => it.split === o.split);
    const ungradable = items.filter((it) => it.extra.gradable?.trim() === '0');
    if (!o.includeUngradable && ungradable.length) items = items.filter((it) => it.extra.gradable?.trim() !== '0');
    if (o.limit !== undefined && o.limit > 0) items = items.slice(0, o.limit);
    if (items.length === 0) throw new Error(`no images to evaluate in ${o.data}${o.split !== undefined ? ` with split '${o.split}'` : ''}`);
    const tolerancePx = o.tolerancePx ?? defaultTolerancePx(meta.inputSize, meta.preprocess.fovMargin);
    const withLoc = o.localization !== false;
    const maps = withLoc ? MAP_KINDS.filter((k) => (o.maps ?? MAP_KINDS).includes(k)) : [];
    const camGrid = gradCamGrid(model);
    const coarseTolerancePx = o.coarseTolerancePx === undefined ? meta.inputSize / camGrid / 2 : o.coarseTolerancePx || null;
    const guidedSal = o.guidedSaliency ?? 'contrast';
    const loc: LocSettings = { maps, tolerancePx, coarseTolerancePx, camGrid, guidedSaliency: guidedSal };
    log(
      `[evaluate] ${meta.name}@${meta.version} on ${items.length} image(s) from ${o.data}${o.split ? ` (split ${o.split})` : ''}; backend ${backend}; ` +
        (maps.length ? `maps ${maps.join(', ')} (guided saliency: ${guidedSal}); pointing-game tolerance ${tolerancePx} px${coarseTolerancePx ? ` (and ${coarseTolerancePx} px)` : ''}` : 'no localization'),
    );

    const predictions: PredictionRow[] = [];
    const samples: LocalizationSample[] = [];
    const failed: { stem: string; error: string }[] = [];
    const progress = new Progress('evaluate', items.length, 'img', o.progressStream === undefined ? process.stderr : o.progressStream);
    const t0 = Date.now();
    for (const item of items) {
      try {
        const r = await evaluateItem(model, item, labelIds, loc);
        const probabilities: Partial<Record<LabelId, number>> = {};
        labelIds.forEach((id, i) => (probabilities[id] = r.probabilities[i]));
        const truth: Partial<Record<LabelId, number>> = {};
        for (const id of labelIds) truth[id] = item.labels[id];
        predictions.push({ stem: item.stem, truth, red: item.red, probabilities });
        samples.push(...r.samples);
      } catch (e) {
        failed.push({ stem: item.stem, error: (e as Error).message });
        log(`[evaluate] ${item.stem}: ${(e as Error).message}`);
      }
      progress.tick();
    }
    const msPerImage = (Date.now() - t0) / items.length;
    if (predictions.length === 0) throw new Error(`every image failed to evaluate (first error: ${failed[0]?.error})`);

    const table = classificationTable(predictions, labelIds, thresholds);
    const crossLabel = crossLabelAuc(predictions, labelIds);
    const locOrder = [...LESION_LABEL_IDS, 'red'];
    const localization = summariseLocalization(samples).sort(
      (a, b) => MAP_KINDS.indexOf(a.map) - MAP_KINDS.indexOf(b.map) || locOrder.indexOf(a.label) - locOrder.indexOf(b.label) || a.source.localeCompare(b.source),
    );
    // Attach Grad-CAM's localization to Table I rows (the fields the model card has always
    // shown); masks are the stronger evidence when both exist.
    const camRows = localization.filter((s) => s.map === 'gradcam');
    for (const s of [...camRows].sort((a, b) => (a.source === 'mask' ? 1 : 0) - (b.source === 'mask' ? 1 : 0))) {
      const row = table.rows[s.label as LabelId | 'red'];
      if (!row) continue;
      row.pointingGame = s.pointingGame;
      row.pointingGameN = s.n;
      if (s.meanAp !== undefined) row.localizationAp = s.meanAp;
    }

    const hasRed = table.rows.red !== undefined;
    const order: string[] = [...labelIds, 'dr', ...(hasRed ? ['red'] : [])];
    const names: Record<string, string> = { dr: 'DR (any lesion)', red: 'Red lesions (MA or HM)' };
    for (const l of meta.labels) names[l.id] = l.name;

    await fs.mkdir(o.out, { recursive: true });
    const files: string[] = [];
    const write = async (name: string, text: string) => {
      await fs.writeFile(path.join(o.out, name), text);
      files.push(name);
    };
    const seriesOf = (id: string, i: number): RocSeries => {
      const r = table.rows[id as LabelId | 'dr' | 'red']!;
      return {
        name: names[id] ?? id,
        colour: rowColour(model, id, i),
        roc: r.roc,
        auc: r.auc,
        point: [1 - r.specificity, r.sensitivity],
      };
    };
    const rocPerLabel: Record<string, string> = {};
    for (const [i, id] of order.entries()) {
      const file = `roc-${id}.svg`;
      await write(file, rocSvg([seriesOf(id, i)], `ROC — ${names[id] ?? id}`));
      rocPerLabel[id] = file;
    }
    await write('roc.svg', rocSvg(labelIds.map((id, i) => seriesOf(id, i)), `ROC curves — ${meta.name} on ${path.basename(path.resolve(o.data))}`, 420));
    const countIds: (LabelId | 'red')[] = [...labelIds, ...(hasRed ? (['red'] as const) : [])];
    await write('label-distribution.svg', distributionSvg(labelCounts(predictions, countIds), `Labels in the evaluated images (n = ${predictions.length})`));

    const datasetName = `${path.basename(path.resolve(o.data))}${o.split !== undefined ? `:${o.split}` : ''}`;
    const notes = buildNotes({ table, predictions, items, split: o.split, tolerancePx, localization, maps, camGrid, inputSize: meta.inputSize, coarseTolerancePx });
    if (ungradable.length) {
      notes.unshift(
        o.includeUngradable
          ? `${ungradable.length} image(s) marked ungradable (gradable = 0) are INCLUDED (--include-ungradable); the app would refuse them.`
          : `${ungradable.length} image(s) marked ungradable (gradable = 0) were left out, as the app refuses them and the paper excluded low-quality photos (--include-ungradable keeps them).`,
      );
    }
    const summary: EvaluationSummary = {
      dataset: datasetName,
      description: `${predictions.length} image(s) from ${datasetName}; decisions at the bundle thresholds; unknown labels excluded per label; pointing game tolerance ${tolerancePx} model px.`,
      perLabel: {},
    };
    if (maps.length) summary.localization = toLocalizationTables(localization, maps, tolerancePx, camGrid, guidedSal);
    for (const id of order) {
      const r = table.rows[id as LabelId | 'dr' | 'red'];
      if (r) summary.perLabel[id as LabelId | 'dr' | 'red'] = toLabelMetrics(r);
    }
    await writeJsonAtomic(path.join(o.out, 'report.json'), summary);
    files.push('report.json');
    await writeJsonAtomic(path.join(o.out, 'details.json'), {
      model: `${meta.name}@${meta.version}`,
      backend,
      dataDir: path.resolve(o.data),
      split: o.split ?? null,
      tolerancePx,
      coarseTolerancePx,
      maps,
      guidedSaliency: guidedSal,
      gradCamGrid: camGrid,
      thresholds,
      rows: Object.fromEntries(Object.entries(table.rows).map(([k, r]) => [k, { ...r, sensitivityCi: r.sensitivityCi, specificityCi: r.specificityCi }])),
      localization,
      localizationSamples: samples,
      crossLabel,
      predictions,
      failed,
    });
    files.push('details.json');
    await write(
      'report.md',
      renderMarkdown(
        {
          modelName: `${meta.name}@${meta.version}`,
          architecture: meta.architecture,
          inputSize: meta.inputSize,
          preprocess: meta.preprocess,
          backend,
          dataset: datasetName,
          dataDir: o.data,
          split: o.split ?? 'all items',
          images: predictions.length,
          failed,
          date: new Date().toISOString(),
          tolerancePx,
          toleranceNote: o.tolerancePx === undefined ? '0.1 optic-disc diameter at this input size' : 'set with --tolerance',
          coarseTolerancePx,
          coarseToleranceNote: o.coarseTolerancePx === undefined ? 'half a Grad-CAM cell' : 'set with --coarse-tolerance',
          maps,
          camGrid,
          guidedSaliency: guidedSal,
          msPerImage,
          charts: { rocAll: 'roc.svg', rocPerLabel, distribution: 'label-distribution.svg' },
          order,
          names,
          notes,
          crossLabel,
        },
        table,
        localization,
      ),
    );
    log(`[evaluate] wrote ${files.length} files to ${o.out}`);
    return { summary, table, localization, predictions, files };
  } finally {
    model.dispose();
  }
}

/** Side of Grad-CAM's grid: the spatial side of A, the features model's output (16 for 512² ResNet-style nets). */
function gradCamGrid(model: FundusModel): number {
  const side = model.features.outputs[0].shape[1];
  if (typeof side !== 'number' || !(side > 0)) throw new Error(`cannot read the Grad-CAM grid from the features output shape [${model.features.outputs[0].shape.join(', ')}]`);
  return side;
}

function buildNotes(a: {
  table: ClassificationTable;
  predictions: PredictionRow[];
  items: DatasetItem[];
  split?: string;
  tolerancePx: number;
  localization: LocalizationSummary[];
  maps: readonly MapKind[];
  camGrid: number;
  inputSize: number;
  coarseTolerancePx: number | null;
}): string[] {
  const withLoc = a.maps.length > 0;
  const notes: string[] = [];
  const n = a.predictions.length;
  if (n < 30) notes.push(`Only ${n} images: every rate here has a wide interval (see the brackets); do not read differences of a few percent.`);
  for (const [id, r] of Object.entries(a.table.rows)) {
    if (!r) continue;
    if (a.table.unknownEverywhere.includes(id)) notes.push(`\`${id}\` is unknown for every evaluated image (not annotated in this dataset): its row is empty.`);
    else if (r.positives === 0) notes.push(`\`${id}\`: no positive images, so sensitivity and AUC are undefined (n/a).`);
    else if (r.positives === r.n) notes.push(`\`${id}\`: every known image is positive, so specificity and AUC are undefined (n/a).`);
  }
  const splits = new Set(a.items.map((it) => it.split).filter((s) => s !== undefined && s !== ''));
  if (a.split === undefined && splits.size > 1) {
    notes.push(`The dataset has a split column (${[...splits].join(', ')}) and no --split was given: training images are included, so these numbers are optimistic. Use --split test.`);
  }
  if (a.table.rows.red) notes.push('`red` (CODRAS): microaneurysms and haemorrhages merged by the annotator; `ma` and `hm` are unknown where red = 1, so their rows count only red = 0 images as known negatives.');
  if (withLoc && a.localization.some((s) => s.source === 'boxes')) {
    notes.push('Box annotations often enclose a cluster of small lesions in one box; a peak inside a box therefore says less than a peak on a mask.');
  }
  if (withLoc) {
    notes.push(
      `Localization is measured only on images where the label is truly present, whether or not the model flagged it; each map explains that label's logit (maps for \`red\`: pixel-wise max of the ma and hm maps), multiplied by the field-of-view mask as the app shows it.`,
    );
  }
  if (a.maps.includes('gradcam')) {
    const cell = a.inputSize / a.camGrid;
    notes.push(
      `Grad-CAM lives on a ${a.camGrid}×${a.camGrid} grid (one cell = ${cell} model px) and is upsampled bilinearly, so its peak sits near a cell centre. At a tolerance of ${a.tolerancePx} px (< ${cell / 2} px, half a cell) a small lesion can be hit only if it lies near a cell centre: the "ideal cell map" column is the pointing game of a perfect map on that grid, i.e. the resolution limit, not the model's. Guided Grad-CAM (eq. 3) is pixel-resolution and has no such limit.`,
    );
  }
  if (withLoc && a.coarseTolerancePx) {
    notes.push(`The coarser tolerance (${a.coarseTolerancePx} px) is shown only to separate "near the lesion" from "on the lesion"; the stated criterion is ${a.tolerancePx} px (0.1 optic-disc diameter unless --tolerance was given).`);
  }
  notes.push('Thresholds come from the bundle (selected on its validation data), never from this evaluation set.');
  return notes;
}

/** Minimal `--key value` / `--flag` parser. */
export function parseArgs(argv: string[]): EvaluateOptions {
  const o: Partial<EvaluateOptions> & Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--model':
        o.model = val();
        break;
      case '--data':
        o.data = val();
        break;
      case '--out':
        o.out = val();
        break;
      case '--split':
        o.split = val();
        break;
      case '--limit':
        o.limit = Number.parseInt(val(), 10);
        break;
      case '--backend':
        o.backend = val();
        break;
      case '--tolerance':
        o.tolerancePx = Number.parseFloat(val());
        break;
      case '--coarse-tolerance': {
        const v = Number.parseFloat(val());
        if (!(v >= 0)) throw new Error('--coarse-tolerance must be a number >= 0 (model pixels; 0 = off)');
        o.coarseTolerancePx = v === 0 ? null : v;
        break;
      }
      case '--maps': {
        const list = val()
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean);
        const bad = list.filter((x) => !MAP_KINDS.includes(x as MapKind));
        if (bad.length || list.length === 0) throw new Error(`--maps takes a comma-separated subset of ${MAP_KINDS.join(', ')}${bad.length ? ` (got ${bad.join(', ')})` : ''}`);
        o.maps = list as MapKind[];
        break;
      }
      case '--guided-saliency': {
        const v = val();
        if (v !== 'contrast' && v !== 'abs') throw new Error(`--guided-saliency takes contrast or abs (got ${v})`);
        o.guidedSaliency = v;
        break;
      }
      case '--no-localization':
        o.localization = false;
        break;
      case '--include-ungradable':
        o.includeUngradable = true;
        break;
      case '--help':
      case '-h':
        throw new Error('help');
      default:
        throw new Error(`unknown argument ${a}`);
    }
  }
  if (!o.model || !o.data || !o.out) throw new Error('--model, --data and --out are required');
  if (o.limit !== undefined && !(o.limit > 0)) throw new Error('--limit must be a positive integer');
  if (o.tolerancePx !== undefined && !(o.tolerancePx >= 0)) throw new Error('--tolerance must be a number >= 0 (model pixels)');
  return o as EvaluateOptions;
}

const USAGE = `usage: npm run evaluate -- --model <bundle dir> --data <dataset dir> --out <dir>
         [--split test] [--limit N] [--backend node-gpu|node|wasm|cpu] [--tolerance <model px>] [--coarse-tolerance <model px, 0 = off>]
         [--maps gradcam,guided-gradcam,hirescam,guided-hirescam] [--guided-saliency contrast|abs] [--no-localization] [--include-ungradable]`;

async function main(): Promise<void> {
  let opts: EvaluateOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message === 'help' ? '' : (e as Error).message + '\n'}${USAGE}\n`);
    process.exit(2);
  }
  // `npm run evaluate` (root) forwards to the training workspace, whose cwd is training/:
  // resolve relative paths against where the user typed the command.
  const base = process.env.INIT_CWD ?? process.cwd();
  opts = { ...opts, model: path.resolve(base, opts.model), data: path.resolve(base, opts.data), out: path.resolve(base, opts.out) };
  try {
    const r = await evaluate(opts);
    const rows = Object.entries(r.table.rows).map(([k, v]) => `${k}\tn=${v!.n}\tpos=${v!.positives}\tsens=${v!.sensitivity.toFixed(3)}\tspec=${v!.specificity.toFixed(3)}\tacc=${v!.accuracy.toFixed(3)}\tauc=${v!.auc.toFixed(3)}`);
    const pct = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v.toFixed(3) : 'n/a');
    for (const l of r.localization) {
      rows.push(
        `loc ${l.map}\t${l.label}/${l.source}\tn=${l.n}\tpg=${pct(l.pointingGame)}\tchance=${pct(l.chance)}` +
          (l.upperBound !== undefined ? `\tbound=${pct(l.upperBound)}` : '') +
          (l.coarse ? `\tpg@${l.coarse.tolerancePx}=${pct(l.coarse.pointingGame)}` : '') +
          `\tap=${pct(l.meanAp)}\tprev=${pct(l.meanPrevalence)}`,
      );
    }
    process.stdout.write(rows.join('\n') + `\nreport: ${path.join(opts.out, 'report.md')}\n`);
  } catch (e) {
    process.stderr.write(`evaluate failed: ${(e as Error).message}\n`);
    process.exit(1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main();
