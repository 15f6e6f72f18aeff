/**
 * Training loss of the paper (section III): binary cross-entropy per label, each label weighted
 * inversely to its frequency, summed over the five sigmoid outputs — extended for PARTIAL labels:
 * a NaN label (empty CSV cell = unknown) contributes nothing to the loss (and so its output gets
 * zero gradient), nothing to the class weights, thresholds or metrics.
 *
 * A `red` target (microaneurysm OR haemorrhage, e.g. CODRAS boxes) has no output of its own: it is
 * learned through the ma/hm outputs as a noisy-OR, P(red) = 1 − (1 − p_ma)(1 − p_hm), computed in
 * log space from the logits (see {@link logNoisyOr}).
 */
import * as tf from '@tensorflow/tfjs';
import { classWeights } from '../../src/core/metrics/index';

/** Per-label weights for positive and negative cells (paper: inversely proportional to frequency). */
export interface LossWeights {
  pos: number[];
  neg: number[];
  /** weights of the `red` target, when the data has one. */
  redPos?: number;
  redNeg?: number;
}

/**
 * Class weights from the training labels (rows × labels, NaN = unknown) and the optional red
 * column, via core metrics' classWeights so training and evaluation share one definition.
 * A label with no known cell or only one class gets weight 1 for the missing side (it never
 * multiplies anything then).
 */
export function computeLossWeights(labels: number[][], red?: number[]): LossWeights {
  const cw = classWeights(labels);
  const fix = (v: number[]) => v.map((x) => (Number.isFinite(x) && x > 0 ? x : 1));
  const out: LossWeights = { pos: fix(cw.pos), neg: fix(cw.neg) };
  if (red && red.some((r) => !Number.isNaN(r))) {
    const rw = classWeights(red.map((r) => [r]));
    out.redPos = fix(rw.pos)[0];
    out.redNeg = fix(rw.neg)[0];
  }
  return out;
}

/**
 * log(1 − exp(−s)) for s ≥ 0 without cancellation: a series near 0 (where 1 − exp(−s) loses
 * all digits in float32), the direct form elsewhere. The gradient, 1 / (e^s − 1), is supplied
 * analytically (same split) via tf.customGrad: the tape cannot differentiate the branch
 * condition, and the analytic form never meets 0 · Inf from the discarded branch.
 */
export function log1mExpNeg(s: tf.Tensor): tf.Tensor {
  const cut = 0.01;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    save([x]);
    const value = tf.tidy(() => {
      const small = tf.clipByValue(x, 1e-30, cut);
      // log(1 − e^{−s}) = log s − s/2 + s²/24 − O(s⁴)
      const series = tf.add(tf.sub(tf.log(small), tf.div(small, 2)), tf.div(tf.square(small), 24));
      const direct = tf.log(tf.sub(1, tf.exp(tf.neg(tf.maximum(x, cut)))));
      return tf.where(tf.less(x, cut), series, direct);
    });
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [xs] = saved;
          const small = tf.clipByValue(xs, 1e-30, cut);
          // 1/(e^s − 1) = 1/s − 1/2 + s/12 − O(s³)
          const series = tf.add(tf.sub(tf.reciprocal(small), 0.5), tf.div(small, 12));
          const direct = tf.reciprocal(tf.sub(tf.exp(tf.maximum(xs, cut)), 1));
          return tf.mul(dy, tf.where(tf.less(xs, cut), series, direct));
        }),
    };
  });
  return f(s);
}

/**
 * Noisy-OR of two logits in log space: 1 − P(red) = (1 − p_ma)(1 − p_hm), and
 * −log(1 − p) = softplus(z), so log(1 − P(red)) = −(softplus(z_ma) + softplus(z_hm)) exactly,
 * and log P(red) = log(1 − exp(−s)).
 */
export function logNoisyOr(zMa: tf.Tensor, zHm: tf.Tensor): { logP: tf.Tensor; log1mP: tf.Tensor } {
  return tf.tidy(() => {
    const s = tf.add(tf.softplus(zMa), tf.softplus(zHm));
    return { logP: log1mExpNeg(s), log1mP: tf.neg(s) };
  });
}

export interface LossOptions {
  /** column of ma and hm in the outputs (default 0 and 1, the LABEL_IDS order). */
  maIndex?: number;
  hmIndex?: number;
}

/**
 * The training loss: mean over KNOWN cells of the class-weighted binary cross-entropy on the
 * logits, plus the noisy-OR red term where `red` is known and ma/hm are not both known (when
 * both are known, their own terms already carry the same information, so red is not counted twice).
 *
 * @param logits [b, L] pre-sigmoid outputs
 * @param labels [b, L] 1/0/NaN
 * @param red    [b] 1/0/NaN, or null when the data has no red column
 */
export function trainingLoss(
  logits: tf.Tensor2D,
  labels: tf.Tensor2D,
  red: tf.Tensor1D | null,
  weights: LossWeights,
  o: LossOptions = {},
): tf.Scalar {
  return tf.tidy(() => {
    const known = tf.logicalNot(tf.isNaN(labels));
    const knownF = tf.cast(known, 'float32');
    const y = tf.where(known, labels, tf.zerosLike(labels));
    const L = logits.shape[1];
    if (weights.pos.length !== L || weights.neg.length !== L) {
      throw new Error(`loss weights have ${weights.pos.length} labels, the model has ${L} outputs`);
    }
    const wPos = tf.tensor1d(weights.pos);
    const wNeg = tf.tensor1d(weights.neg);
    // −log σ(z) = softplus(−z), −log(1 − σ(z)) = softplus(z): stable for any z.
    const cell = tf.add(
      tf.mul(tf.mul(y, wPos), tf.softplus(tf.neg(logits))),
      tf.mul(tf.mul(tf.sub(1, y), wNeg), tf.softplus(logits)),
    );
    let total: tf.Tensor = tf.sum(tf.mul(cell, knownF));
    let count: tf.Tensor = tf.sum(knownF);

    if (red && weights.redPos !== undefined && weights.redNeg !== undefined) {
      const mi = o.maIndex ?? 0;
      const hi = o.hmIndex ?? 1;
      const b = logits.shape[0];
      const zMa = tf.reshape(tf.slice(logits, [0, mi], [b, 1]), [b]);
      const zHm = tf.reshape(tf.slice(logits, [0, hi], [b, 1]), [b]);
      const knownMa = tf.reshape(tf.slice(knownF, [0, mi], [b, 1]), [b]);
      const knownHm = tf.reshape(tf.slice(knownF, [0, hi], [b, 1]), [b]);
      const redKnown = tf.logicalNot(tf.isNaN(red));
      const r = tf.where(redKnown, red, tf.zerosLike(red));
      const bothKnown = tf.mul(knownMa, knownHm);
      const active = tf.mul(tf.cast(redKnown, 'float32'), tf.sub(1, bothKnown));
      const { logP, log1mP } = logNoisyOr(zMa, zHm);
      const redCell = tf.add(
        tf.mul(tf.mul(r, weights.redPos), tf.neg(logP)),
        tf.mul(tf.mul(tf.sub(1, r), weights.redNeg), tf.neg(log1mP)),
      );
      total = tf.add(total, tf.sum(tf.mul(redCell, active)));
      count = tf.add(count, tf.sum(active));
    }
    return tf.div(total, tf.maximum(count, 1)) as tf.Scalar;
  });
}
