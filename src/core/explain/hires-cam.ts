/**
 * HiResCAM — Draelos & Carin 2020 ("Use HiResCAM instead of Grad-CAM for faithful explanations
 * of convolutional neural networks", arXiv:2011.08891), an alternative to the paper's eq. 1–2:
 *
 *   Grad-CAM (eq. 1–2)   I^c = ReLU( Σ_k [ (1/Z) Σ_ij ∂y^c/∂A_ij^k ] · A^k )
 *   HiResCAM             I^c = ReLU( Σ_k  ∂y^c/∂A^k ⊙ A^k )                 (element-wise)
 *
 * Grad-CAM averages the gradient over the whole grid before weighting the activations, so a
 * channel that the head uses at ONE place lights up wherever that channel fires. HiResCAM keeps
 * the gradient where it is. For a head that is linear up to the global average pool the two are
 * identical (the gradient is the same in every cell); this product's head (3×3 conv → ReLU →
 * 1×1 → ReLU → 1×1 → GAP) gates the gradient per cell, and then HiResCAM follows what the head
 * actually used. Measured on the synthetic test photos with the demo model (evaluate
 * --maps): the Guided variant (eq. 3 with HiResCAM in place of Grad-CAM) puts the peak on the
 * right lesion more often for every label, most for microaneurysms; see training/README.md.
 *
 * The cost is one backward pass through the cheap head for all targets at once; the backbone is not run again.
 * When the head starts with a linear stride-1 'same' convolution (both builders' heads), the gradient is taken
 * from that convolution's output z on (grad-cam-fast.headGradientFast), so the convolution is not run again on
 * A tiled per target; otherwise through the whole head, like Grad-CAM's reference path.
 */
import * as tf from '@tensorflow/tfjs';
import { applyLayers } from '../model/graph';
import { headGradientFast } from './grad-cam-fast';
import { upsampleAndNormalise } from './grad-cam';
import { diagonalObjective, type ExplainTarget } from './targets';

/** ∂y/∂A [T, h, w, k] by tf.grad through the whole head, A tiled once per target (any head). */
export function headGradientFull(head: tf.LayersModel, a: tf.Tensor4D, targets: readonly ExplainTarget[]): tf.Tensor4D {
  return tf.tidy(() => {
    const tiled = tf.tile(a, [targets.length, 1, 1, 1]) as tf.Tensor4D;
    // applyLayers: plain-op convs, no filter gradients (only ∂y/∂A is wanted), as in grad-cam.ts
    return tf.grad((x: tf.Tensor) => diagonalObjective(applyLayers(head, x, { training: false })[0] as tf.Tensor2D, targets))(tiled) as tf.Tensor4D;
  });
}

/** HiResCAM on A's grid: ReLU(Σ_k grads ⊙ A). a [1, h, w, k], grads [T, h, w, k] -> [T, h, w]. */
export function hiResCamMaps(a: tf.Tensor4D, grads: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => tf.relu(tf.sum(tf.mul(grads, a), 3)) as tf.Tensor3D);
}

/**
 * HiResCAM maps for every target from already computed features A (one backward through the head).
 * Same contract as grad-cam.gradCamFromFeatures, so callers can switch between the two.
 * @param a A = features(input), shape [1, h, w, k]; not disposed.
 * @param outSize side of the returned maps (the model input size).
 * @param z the head's first-convolution output kept by headForwardKeepingZ (not disposed), when the caller has it
 * @returns cams [T, outSize, outSize] each divided by its own coarse peak (0..1), peaks [T].
 */
export function hiResCamFromFeatures(
  head: tf.LayersModel,
  a: tf.Tensor4D,
  targets: readonly ExplainTarget[],
  outSize: number,
  z?: tf.Tensor4D,
): { cams: tf.Tensor3D; peaks: tf.Tensor1D } {
  if (a.shape[0] !== 1) throw new RangeError('hiResCam explains one image at a time (batch 1)');
  if (targets.length === 0) return { cams: tf.zeros([0, outSize, outSize]), peaks: tf.zeros([0]) };
  return tf.tidy(() => {
    const grads = headGradientFast(head, a, targets, z) ?? headGradientFull(head, a, targets);
    const { maps, peaks } = upsampleAndNormalise(hiResCamMaps(a, grads), outSize);
    return { cams: maps, peaks };
  });
}
