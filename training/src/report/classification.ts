/**
 * Table I of the paper, computed from per-image predictions: sensitivity, specificity,
 * accuracy and AUC per label at the bundle's thresholds, plus the derived healthy-vs-DR
 * decision and (for datasets with a merged `red` column, e.g. CODRAS) the noisy-OR of the
 * ma/hm outputs against `red`. Pure functions on numbers; no tfjs, no files.
 */
import {
  auc,
  aucStandardError,
  confusionAt,
  noisyOr,
  rocCurve,
  wilsonInterval,
  type RocCurve,
} from '../../../src/core/metrics/index';
import type { LabelId, LabelMetrics, LesionLabelId } from '../../../src/core/types';
import { LESION_LABEL_IDS } from '../../../src/core/types';

/** One evaluated image: truth (1 / 0 / NaN unknown) and the model's probabilities. */
export interface PredictionRow {
  stem: string;
  truth: Partial<Record<LabelId, number>>;
  /** CODRAS-style merged red-lesion label (ma OR hm), when the dataset has it */
  red?: number;
  /** sigmoid probabilities by label id */
  probabilities: Partial<Record<LabelId, number>>;
}

/** A Table I row with the extra numbers the report shows. */
export interface LabelRow extends LabelMetrics {
  threshold: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  /** 95 % Wilson intervals */
  sensitivityCi: [number, number];
  specificityCi: [number, number];
  /** Hanley–McNeil standard error of the AUC */
  aucSe: number;
  /** how the row's score and decision are defined (for the report) */
  definition: string;
  roc: RocCurve;
}

export interface ClassificationTable {
  /** rows in the order: model labels, then 'dr', then 'red' when present */
  rows: Partial<Record<LabelId | 'dr' | 'red', LabelRow>>;
  /** labels whose truth was unknown for every evaluated image (not evaluable) */
  unknownEverywhere: string[];
}

function row(scores: number[], labels: number[], threshold: number, definition: string): LabelRow {
  const c = confusionAt(scores, labels, threshold);
  const positives = c.tp + c.fn;
  const negatives = c.tn + c.fp;
  const a = auc(scores, labels);
  return {
    sensitivity: c.sensitivity,
    specificity: c.specificity,
    accuracy: c.accuracy,
    auc: a,
    n: positives + negatives,
    positives,
    threshold,
    tp: c.tp,
    fp: c.fp,
    tn: c.tn,
    fn: c.fn,
    sensitivityCi: wilsonInterval(c.tp, positives),
    specificityCi: wilsonInterval(c.tn, negatives),
    aucSe: aucStandardError(a, positives, negatives),
    definition,
    roc: rocCurve(scores, labels),
  };
}

const num = (v: number | undefined): number => (v === undefined ? Number.NaN : v);

/**
 * Truth of "this eye shows DR" from partial labels: 1 when any lesion label (or `red`) is 1;
 * 0 when every lesion label is known 0 (a `healthy` = 1 cell also counts as 0); otherwise
 * unknown (NaN) — e.g. CODRAS photos without boxes, where cotton wool spots were never annotated.
 */
export function drTruth(r: PredictionRow, lesionLabels: readonly LesionLabelId[]): number {
  const vals = lesionLabels.map((l) => num(r.truth[l]));
  if (vals.some((v) => v === 1) || r.red === 1) return 1;
  if (vals.every((v) => v === 0)) return 0;
  if (r.truth.healthy === 1) return 0;
  return Number.NaN;
}

/**
 * Computes the table. `thresholds` are the bundle's per-label decision thresholds; the
 * model's label order is `labelIds`.
 *  - per label: score = probability, decision = probability ≥ threshold;
 *  - dr: decision = any lesion flag (as the app decides), score = max over lesion labels of
 *    (p_l − t_l), so the ROC passes through the app's operating point at 0;
 *  - red (only when some row has `red`): score = noisy-OR 1 − (1 − p_ma)(1 − p_hm) for the AUC,
 *    decision = ma flag OR hm flag (what the app would outline as red lesions).
 */
export function classificationTable(rows: readonly PredictionRow[], labelIds: readonly LabelId[], thresholds: Partial<Record<LabelId, number>>): ClassificationTable {
  const out: ClassificationTable['rows'] = {};
  const unknownEverywhere: string[] = [];
  for (const id of labelIds) {
    const t = num(thresholds[id]);
    const scores = rows.map((r) => num(r.probabilities[id]));
    const labels = rows.map((r) => num(r.truth[id]));
    if (labels.every(Number.isNaN)) unknownEverywhere.push(id);
    out[id] = row(scores, labels, t, `p(${id}) ≥ ${fmtT(t)}`);
  }
  const lesions = LESION_LABEL_IDS.filter((l) => labelIds.includes(l));
  if (lesions.length > 0) {
    const scores = rows.map((r) => Math.max(...lesions.map((l) => num(r.probabilities[l]) - num(thresholds[l]))));
    const labels = rows.map((r) => drTruth(r, lesions));
    out.dr = row(scores, labels, 0, `any lesion flag (${lesions.join(', ')}) positive; AUC over max_l(p_l − t_l)`);
  }
  if (rows.some((r) => r.red !== undefined && !Number.isNaN(r.red)) && labelIds.includes('ma') && labelIds.includes('hm')) {
    const tMa = num(thresholds.ma);
    const tHm = num(thresholds.hm);
    const labels = rows.map((r) => num(r.red));
    const noisy = rows.map((r) => noisyOr(num(r.probabilities.ma), num(r.probabilities.hm)));
    // decision: ma or hm flagged; AUC on the noisy-OR score (the quantity training fits to `red`)
    const flags = rows.map((r) => (num(r.probabilities.ma) >= tMa || num(r.probabilities.hm) >= tHm ? 1 : 0));
    const decided = row(flags, labels, 0.5, '');
    const ranked = row(noisy, labels, Number.POSITIVE_INFINITY, '');
    out.red = {
      ...decided,
      auc: ranked.auc,
      aucSe: ranked.aucSe,
      roc: ranked.roc,
      threshold: Number.NaN,
      definition: `decision: ma flag OR hm flag; AUC over noisy-OR 1 − (1 − p_ma)(1 − p_hm)`,
    };
  }
  return { rows: out, unknownEverywhere };
}

function fmtT(t: number): string {
  return Number.isFinite(t) ? t.toFixed(3) : String(t);
}

/** Plain LabelMetrics (the EvaluationSummary shape in types.ts) from a LabelRow. */
export function toLabelMetrics(r: LabelRow): LabelMetrics {
  const m: LabelMetrics = {
    sensitivity: r.sensitivity,
    specificity: r.specificity,
    accuracy: r.accuracy,
    auc: r.auc,
    n: r.n,
    positives: r.positives,
  };
  if (Number.isFinite(r.threshold)) m.threshold = r.threshold;
  if (r.pointingGame !== undefined) m.pointingGame = r.pointingGame;
  if (r.pointingGameN !== undefined) m.pointingGameN = r.pointingGameN;
  if (r.localizationAp !== undefined) m.localizationAp = r.localizationAp;
  return m;
}

/** Counts per label for the distribution chart (paper Fig. 4). */
export interface LabelCount {
  id: string;
  positives: number;
  negatives: number;
  unknown: number;
}

export function labelCounts(rows: readonly PredictionRow[], ids: readonly (LabelId | 'red')[]): LabelCount[] {
  return ids.map((id) => {
    let positives = 0;
    let negatives = 0;
    let unknown = 0;
    for (const r of rows) {
      const v = id === 'red' ? num(r.red) : num(r.truth[id]);
      if (v === 1) positives++;
      else if (v === 0) negatives++;
      else unknown++;
    }
    return { id, positives, negatives, unknown };
  });
}

/** One label's AUC against a subset of its negatives. */
export interface SubsetAuc {
  /** negatives in the subset */
  n: number;
  auc: number;
}

/** {@link crossLabelAuc}'s row for one lesion label. */
export interface CrossLabelRow {
  label: LesionLabelId;
  positives: number;
  /** positives against negatives that have no lesion at all (every lesion label known 0) */
  lesionFree: SubsetAuc;
  /** positives against the negatives that carry lesion `o` (o ≠ label) */
  withOther: Partial<Record<LesionLabelId, SubsetAuc>>;
}

/**
 * Does a lesion label's output answer for ITS lesion, or for "this eye is diseased"? For each
 * lesion label, the AUC of its probability over its positives against (a) lesion-free negatives
 * and (b) the negatives that carry each other lesion. A label that only detects its own lesion
 * scores the same in every column; one that has learnt "diseased" scores ~1 against lesion-free
 * photos and much lower against photos with other lesions (how 0.2.0's ma output was caught:
 * 1.00 vs 0.70 with haemorrhages). Unknown truths are left out per label, as in Table I.
 */
export function crossLabelAuc(rows: readonly PredictionRow[], labelIds: readonly LabelId[]): CrossLabelRow[] {
  const lesions = LESION_LABEL_IDS.filter((l) => labelIds.includes(l));
  const subset = (l: LesionLabelId, pos: readonly PredictionRow[], neg: readonly PredictionRow[]): SubsetAuc => {
    const scores = [...pos, ...neg].map((r) => num(r.probabilities[l]));
    const labels = [...pos.map(() => 1), ...neg.map(() => 0)];
    return { n: neg.length, auc: pos.length && neg.length ? auc(scores, labels) : Number.NaN };
  };
  return lesions.map((l) => {
    const pos = rows.filter((r) => num(r.truth[l]) === 1);
    const neg = rows.filter((r) => num(r.truth[l]) === 0);
    const withOther: Partial<Record<LesionLabelId, SubsetAuc>> = {};
    for (const o of lesions) if (o !== l) withOther[o] = subset(l, pos, neg.filter((r) => num(r.truth[o]) === 1));
    const free = neg.filter((r) => lesions.every((o) => num(r.truth[o]) === 0));
    return { label: l, positives: pos.length, lesionFree: subset(l, pos, free), withOther };
  });
}

