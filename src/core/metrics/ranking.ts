/**
 * Ranking metrics for one binary label: ROC (paper Fig. 5), AUC (paper Table I),
 * confusion counts at a threshold, per-label threshold selection (paper II.C: "we also
 * automatically allocated each optimum threshold to each category") and average precision.
 *
 * Conventions shared by every function here:
 * - `labels` are 1 (present), 0 (absent) or NaN (unknown). Unknown labels are excluded
 *   pair-wise, so a partially labelled dataset (e.g. CODRAS `ma`/`hm` empty when `red` is 1)
 *   is scored only where the truth is known. Any other label value is an error.
 * - A score is predicted positive when `score >= threshold`.
 * - Scores must be finite numbers (probabilities or logits); a NaN score is a bug upstream
 *   and throws rather than being silently ranked.
 */

/** Scores grouped by distinct value, highest first, with the positives/negatives at each value. */
export interface ScoreGroups {
  /** distinct score values, descending */
  values: Float64Array;
  /** positives whose score equals values[i] */
  pos: Float64Array;
  /** negatives whose score equals values[i] */
  neg: Float64Array;
  totalPos: number;
  totalNeg: number;
}

function checkLengths(scores: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (scores.length !== labels.length) {
    throw new RangeError(`scores (${scores.length}) and labels (${labels.length}) differ in length`);
  }
}

/**
 * Groups scores by distinct value. Positives and negatives are sorted separately as typed
 * arrays (native numeric sort, no comparator), then merged: O(n log n) and fast enough for
 * AUPR over every pixel of a 512² map.
 */
export function groupScores(scores: ArrayLike<number>, labels: ArrayLike<number>): ScoreGroups {
  checkLengths(scores, labels);
  let nPos = 0;
  let nNeg = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (Number.isNaN(l)) continue;
    if (l !== 0 && l !== 1) throw new RangeError(`label ${i} is ${l}; expected 0, 1 or NaN (unknown)`);
    if (!Number.isFinite(scores[i])) throw new RangeError(`score ${i} is ${scores[i]}; scores must be finite`);
    if (l === 1) nPos++;
    else nNeg++;
  }
  const p = new Float64Array(nPos);
  const q = new Float64Array(nNeg);
  let ip = 0;
  let iq = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === 1) p[ip++] = scores[i];
    else if (l === 0) q[iq++] = scores[i];
  }
  p.sort();
  q.sort();
  const values: number[] = [];
  const pos: number[] = [];
  const neg: number[] = [];
  ip = nPos - 1;
  iq = nNeg - 1;
  while (ip >= 0 || iq >= 0) {
    const v = ip < 0 ? q[iq] : iq < 0 ? p[ip] : Math.max(p[ip], q[iq]);
    let cp = 0;
    let cq = 0;
    while (ip >= 0 && p[ip] === v) {
      cp++;
      ip--;
    }
    while (iq >= 0 && q[iq] === v) {
      cq++;
      iq--;
    }
    values.push(v);
    pos.push(cp);
    neg.push(cq);
  }
  return { values: Float64Array.from(values), pos: Float64Array.from(pos), neg: Float64Array.from(neg), totalPos: nPos, totalNeg: nNeg };
}

/** A ROC curve; point 0 is (0, 0) at threshold +Infinity, the last is (1, 1). */
export interface RocCurve {
  fpr: number[];
  tpr: number[];
  /** point i is reached by predicting positive when `score >= thresholds[i]` */
  thresholds: number[];
}

/**
 * ROC curve over the distinct score values (paper Fig. 5). Unknown (NaN) labels are excluded.
 * When one class is absent its rate is undefined: that coordinate is NaN at every point.
 */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocCurve {
  return rocFromGroups(groupScores(scores, labels));
}

export function rocFromGroups(g: ScoreGroups): RocCurve {
  const fpr = [0 / g.totalNeg];
  const tpr = [0 / g.totalPos];
  const thresholds = [Number.POSITIVE_INFINITY];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < g.values.length; i++) {
    tp += g.pos[i];
    fp += g.neg[i];
    fpr.push(fp / g.totalNeg);
    tpr.push(tp / g.totalPos);
    thresholds.push(g.values[i]);
  }
  return { fpr, tpr, thresholds };
}

/**
 * Area under the ROC curve. Tied scores count one half, so this equals the Mann–Whitney U
 * statistic divided by P·N (the trapezoidal area, with ties as diagonal segments):
 *   AUC = P(score⁺ > score⁻) + ½ P(score⁺ = score⁻).
 * Returns NaN when positives or negatives are absent (AUC is undefined, not 0.5).
 */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  return aucFromGroups(groupScores(scores, labels));
}

export function aucFromGroups(g: ScoreGroups): number {
  if (g.totalPos === 0 || g.totalNeg === 0) return Number.NaN;
  // Walk groups from the top: every positive in group i beats the negatives in lower
  // groups and ties with the negatives in its own group.
  let negBelow = g.totalNeg;
  let u = 0;
  for (let i = 0; i < g.values.length; i++) {
    negBelow -= g.neg[i];
    u += g.pos[i] * (negBelow + 0.5 * g.neg[i]);
  }
  return u / (g.totalPos * g.totalNeg);
}

/** Confusion counts and rates at one threshold (predicted positive when score >= threshold). */
export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  /** tp / (tp + fn); NaN without positives */
  sensitivity: number;
  /** tn / (tn + fp); NaN without negatives */
  specificity: number;
  /** (tp + tn) / n; NaN when n = 0 */
  accuracy: number;
}

/** Confusion matrix at `threshold`; unknown (NaN) labels excluded. */
export function confusionAt(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): Confusion {
  checkLengths(scores, labels);
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (Number.isNaN(l)) continue;
    if (l !== 0 && l !== 1) throw new RangeError(`label ${i} is ${l}; expected 0, 1 or NaN (unknown)`);
    if (Number.isNaN(scores[i])) throw new RangeError(`score ${i} is NaN`);
    const predicted = scores[i] >= threshold;
    if (l === 1) {
      if (predicted) tp++;
      else fn++;
    } else if (predicted) fp++;
    else tn++;
  }
  return confusionFromCounts(tp, fp, tn, fn);
}

/** Rates from counts; used for derived decisions (e.g. healthy-vs-DR from several labels). */
export function confusionFromCounts(tp: number, fp: number, tn: number, fn: number): Confusion {
  return {
    tp,
    fp,
    tn,
    fn,
    sensitivity: tp / (tp + fn),
    specificity: tn / (tn + fp),
    accuracy: (tp + tn) / (tp + fp + tn + fn),
  };
}

/**
 * How to pick a label's operating point: `'youden'` maximises sensitivity + specificity − 1;
 * `{ minSensitivity }` takes the most specific point whose sensitivity reaches the bound
 * (a screening tool usually wants this: missing DR costs more than a referral).
 */
export type ThresholdRule = 'youden' | { minSensitivity: number };

/** Returned by {@link selectThreshold} when the data cannot define a threshold (a class absent). */
export const FALLBACK_THRESHOLD = 0.5;

/**
 * Per-label optimum threshold (paper II.C). The returned value lies halfway between the
 * chosen score and the next lower distinct score, so `confusionAt(scores, labels, t)`
 * reproduces the chosen ROC point exactly while not sitting on a training score (a
 * threshold equal to an observed score generalises one-sidedly).
 * Youden ties are broken toward the LOWER threshold (more sensitive), for screening.
 * When positives or negatives are absent (all unknown, or one class only) there is no ROC
 * to optimise and {@link FALLBACK_THRESHOLD} (0.5) is returned.
 */
export function selectThreshold(scores: ArrayLike<number>, labels: ArrayLike<number>, rule: ThresholdRule = 'youden'): number {
  const g = groupScores(scores, labels);
  if (g.totalPos === 0 || g.totalNeg === 0) return FALLBACK_THRESHOLD;
  const roc = rocFromGroups(g);
  // ROC point k (k >= 1) is "predict positive down to group k-1".
  let best = -1;
  if (rule === 'youden') {
    let bestJ = Number.NEGATIVE_INFINITY;
    for (let k = 1; k < roc.tpr.length; k++) {
      const j = roc.tpr[k] - roc.fpr[k];
      if (j >= bestJ) {
        bestJ = j;
        best = k;
      }
    }
  } else {
    const m = rule.minSensitivity;
    if (!(m > 0 && m <= 1)) throw new RangeError(`minSensitivity must be in (0, 1], got ${m}`);
    // tpr is non-decreasing along the curve, so the first point reaching m is the most specific.
    for (let k = 1; k < roc.tpr.length; k++) {
      if (roc.tpr[k] >= m - 1e-12) {
        best = k;
        break;
      }
    }
  }
  const v = g.values[best - 1];
  const next = best < g.values.length ? g.values[best] : Number.NaN;
  return Number.isNaN(next) ? v : (v + next) / 2;
}

/**
 * Average precision (area under the precision–recall curve, step-wise as in scikit-learn):
 * AP = Σ_k (R_k − R_{k−1}) · P_k over distinct thresholds, ties entering together.
 * Used for localization: every map pixel is a score, the lesion mask is the label.
 * Returns NaN without positives. A random map scores about the positive fraction.
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const g = groupScores(scores, labels);
  if (g.totalPos === 0) return Number.NaN;
  let tp = 0;
  let fp = 0;
  let ap = 0;
  for (let i = 0; i < g.values.length; i++) {
    if (g.pos[i] === 0) {
      fp += g.neg[i];
      continue;
    }
    tp += g.pos[i];
    fp += g.neg[i];
    ap += (g.pos[i] / g.totalPos) * (tp / (tp + fp));
  }
  return ap;
}

/**
 * Wilson score interval for a proportion k/n (e.g. a sensitivity on a small test split):
 * honest error bars where n is 6, not 600. Returns [NaN, NaN] when n = 0.
 */
export function wilsonInterval(k: number, n: number, z = 1.959964): [number, number] {
  if (n <= 0) return [Number.NaN, Number.NaN];
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * Hanley & McNeil (1982) standard error of an AUC with P positives and N negatives — a
 * rough interval for the report; NaN when a class is absent.
 */
export function aucStandardError(a: number, nPos: number, nNeg: number): number {
  if (!(nPos > 0 && nNeg > 0) || Number.isNaN(a)) return Number.NaN;
  const q1 = a / (2 - a);
  const q2 = (2 * a * a) / (1 + a);
  const v = (a * (1 - a) + (nPos - 1) * (q1 - a * a) + (nNeg - 1) * (q2 - a * a)) / (nPos * nNeg);
  return Math.sqrt(Math.max(0, v));
}
