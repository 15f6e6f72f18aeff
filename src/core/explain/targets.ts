/**
 * Explanation targets: small objects that say WHAT an explanation explains, in the style of
 * pytorch-grad-cam's `ClassifierOutputTarget`. Every method in explain/ differentiates a
 * target's score, so adding e.g. "explain the healthy label negatively" is a new target, not
 * a new method.
 *
 * Jiang et al. eq. 1 differentiates y^c, "the score of class c before the softmax": for a
 * multi-label sigmoid model that is the label's LOGIT, not its probability (the sigmoid
 * saturates, so gradients of the probability vanish exactly where the model is most sure).
 */
import * as tf from '@tensorflow/tfjs';

/** What to explain: a scalar score per batch row, computed from the logits [b, labels]. */
export interface ExplainTarget {
  /** short name for logs and errors, e.g. "logit:hex". */
  readonly name: string;
  /** index of the label the score belongs to (for bookkeeping; the score may use any columns). */
  readonly labelIndex: number;
  /** [b, labels] logits -> [b] scores. Must be differentiable tfjs ops. */
  score(logits: tf.Tensor2D): tf.Tensor1D;
  /**
   * Set when the score is exactly the logit in this column (a {@link logitTarget}): objectives over many such
   * targets are then one masked sum instead of a slice per target.
   */
  readonly logitColumn?: number;
}

/** The label's pre-sigmoid score y^c (paper eq. 1). */
export function logitTarget(labelIndex: number, name = `logit:${labelIndex}`): ExplainTarget {
  if (!Number.isInteger(labelIndex) || labelIndex < 0) throw new RangeError(`bad label index ${labelIndex}`);
  return {
    name,
    labelIndex,
    logitColumn: labelIndex,
    score: (logits) => {
      if (labelIndex >= logits.shape[1]) throw new RangeError(`label index ${labelIndex} >= ${logits.shape[1]} outputs`);
      return tf.squeeze(tf.slice(logits, [0, labelIndex], [-1, 1]), [1]) as tf.Tensor1D;
    },
  };
}

/** One {@link logitTarget} per label index, named by `names` when given. */
export function logitTargets(labelIndices: readonly number[], names?: readonly string[]): ExplainTarget[] {
  return labelIndices.map((i, k) => logitTarget(i, names ? `logit:${names[k]}` : undefined));
}

/**
 * The objective whose gradient gives every target's explanation in ONE backward pass:
 * the batch is the input tiled once per target, row t only feeds target t, so
 * d(sum_t score_t(row t)) / d(row t) = d score_t / d input. Rows do not interact as long
 * as the network runs in inference mode (BatchNorm uses moving statistics).
 */
export function diagonalObjective(logits: tf.Tensor2D, targets: readonly ExplainTarget[]): tf.Scalar {
  if (logits.shape[0] !== targets.length) {
    throw new RangeError(`diagonalObjective: ${logits.shape[0]} rows for ${targets.length} targets`);
  }
  const mask = logitMask(targets, logits.shape[1]);
  if (mask) {
    // Σ_t logits[t, c_t] as ONE product with the mask: its gradient is the mask itself, the same seed as the
    // per-target slices give, in 2 kernels instead of ~6 per target (wasm: each small kernel costs a dispatch;
    // GPU backends: each is a shader launch).
    return tf.sum(tf.mul(logits, tf.tensor2d(mask, logits.shape)));
  }
  const parts = targets.map((t, row) => t.score(tf.slice(logits, [row, 0], [1, -1]) as tf.Tensor2D));
  return tf.sum(parts.length === 1 ? parts[0] : tf.concat(parts));
}

/**
 * The 0/1 [targets, labels] mask whose row t selects target t's logit: the gradient of {@link diagonalObjective}
 * with respect to the logits. Null unless every target is a {@link logitTarget} within `labels` columns.
 */
export function logitMask(targets: readonly ExplainTarget[], labels: number): Float32Array | null {
  if (!targets.every((t) => t.logitColumn !== undefined && t.logitColumn < labels)) return null;
  const mask = new Float32Array(targets.length * labels);
  targets.forEach((t, row) => (mask[row * labels + t.logitColumn!] = 1));
  return mask;
}
