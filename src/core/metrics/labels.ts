/**
 * Label-level helpers shared by training and evaluation: class weights for the loss
 * (paper III: "a weight that was inversely proportional to the number of each category")
 * and the noisy-OR that ties the CODRAS `red` label to the model's ma/hm outputs.
 */

/** Per-label loss weights for positive and negative examples. */
export interface ClassWeights {
  pos: number[];
  neg: number[];
}

/**
 * Class weights inversely proportional to frequency, per label, over KNOWN cells only
 * (NaN = unknown contributes nothing):
 *   pos[l] = n_l / (2 · P_l),   neg[l] = n_l / (2 · N_l)
 * where n_l = P_l + N_l. This is the "balanced" weighting: each label's positives and
 * negatives then carry equal total weight (n_l / 2 each), and the mean weight over that
 * label's known cells is 1, so the loss scale does not depend on the imbalance.
 * A rare lesion (few positives) gets a large positive weight; unbalanced labels do not
 * drown each other. When a class is absent for a label (or the label is never known)
 * both of that label's weights are 1: there is nothing to balance against.
 */
export function classWeights(labelMatrix: ArrayLike<ArrayLike<number>>): ClassWeights {
  const rows = labelMatrix.length;
  if (rows === 0) return { pos: [], neg: [] };
  const L = labelMatrix[0].length;
  const p = new Array<number>(L).fill(0);
  const q = new Array<number>(L).fill(0);
  for (let r = 0; r < rows; r++) {
    const row = labelMatrix[r];
    if (row.length !== L) throw new RangeError(`label row ${r} has ${row.length} labels, expected ${L}`);
    for (let l = 0; l < L; l++) {
      const v = row[l];
      if (Number.isNaN(v)) continue;
      if (v === 1) p[l]++;
      else if (v === 0) q[l]++;
      else throw new RangeError(`label [${r}][${l}] is ${v}; expected 0, 1 or NaN (unknown)`);
    }
  }
  // With one class absent there is nothing to balance: both weights stay 1.
  const both = (l: number) => p[l] > 0 && q[l] > 0;
  const pos = p.map((pl, l) => (both(l) ? (pl + q[l]) / (2 * pl) : 1));
  const neg = q.map((ql, l) => (both(l) ? (p[l] + ql) / (2 * ql) : 1));
  return { pos, neg };
}

/**
 * Noisy-OR of the microaneurysm and haemorrhage probabilities: the probability that at
 * least one "red lesion" is present when the two are independent causes,
 *   P(red) = 1 − (1 − p_ma)(1 − p_hm).
 * Evaluation scores CODRAS's merged `red` label with it. (Training computes the same thing
 * in log space on logits for stability; see training/src/loss.ts.)
 */
export function noisyOr(pMa: number, pHm: number): number {
  return 1 - (1 - pMa) * (1 - pHm);
}
