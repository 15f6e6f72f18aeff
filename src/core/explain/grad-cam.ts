/**
 * Grad-CAM — Selvaraju et al. 2017 ("Grad-CAM: Visual explanations from deep networks via
 * gradient-based localization"), as used by Jiang et al. §II.D:
 *
 *   eq. 1   w_k^c = (1/Z) Σ_i Σ_j ∂y^c / ∂A_ij^k        (Z = W·H: spatial mean of the gradient)
 *   eq. 2   I^c_Grad-CAM = ReLU( Σ_k w_k^c · A^k )
 *
 * A is the output of the last convolutional block (FundusModel.features), y^c the label's
 * logit (targets.ts). The map lives on A's coarse grid (input/32 for ResNet50) and is
 * upsampled bilinearly to the model input; lesions/ maps it on to the photo.
 *
 * All labels are explained with ONE forward pass of the expensive features and ONE backward
 * pass through the cheap head: A is tiled once per target along the batch and the gradient
 * of Σ_t y^{c_t}(row t) gives every label's ∂y^c/∂A at once (targets.diagonalObjective).
 */
import * as tf from '@tensorflow/tfjs';
import { applyLayers } from '../model/graph';
import { gradCamWeightsFast, headForwardKeepingZ } from './grad-cam-fast';
import { diagonalObjective, type ExplainTarget } from './targets';

/** The split a Grad-CAM needs; FundusModel satisfies it. Weights are shared, never changed. */
export interface SplitModel {
  /** input [b, s, s, 3] -> A [b, h, w, k] */
  readonly features: tf.LayersModel;
  /** A -> logits [b, labels] */
  readonly head: tf.LayersModel;
}

/** Output of {@link gradCam}; the caller owns (and disposes) every tensor. */
export interface GradCamTensors {
  /** [targets, outSize, outSize], each map divided by its own peak: 0..1 (all-zero when the peak is 0). */
  cams: tf.Tensor3D;
  /** [targets] peak of each map before normalisation (in A·w units): 0 means no positive evidence. */
  peaks: tf.Tensor1D;
  /** [1, labels] logits of the same forward pass, so callers need no second forward. */
  logits: tf.Tensor2D;
}

/** eq. 1: channel weights = spatial mean of ∂y^c/∂A. grads [T, h, w, k] -> [T, k]. */
export function gradCamWeights(grads: tf.Tensor4D): tf.Tensor2D {
  return tf.mean(grads, [1, 2]) as tf.Tensor2D;
}

/** eq. 2: ReLU(Σ_k w_k^c A^k). A [1, h, w, k], weights [T, k] -> [T, h, w]. */
export function weightedActivation(a: tf.Tensor4D, weights: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => tf.transpose(weightedActivationLast(a, weights), [2, 0, 1]) as tf.Tensor3D);
}

/** eq. 2 with the targets last, [h, w, T], as the matmul gives them: one matmul for all targets, [h·w, k] x [k, T]. */
function weightedActivationLast(a: tf.Tensor4D, weights: tf.Tensor2D): tf.Tensor3D {
  const [, h, w, k] = a.shape;
  const cam = tf.matMul(tf.reshape(a, [h * w, k]), weights, false, true);
  return tf.reshape(tf.relu(cam), [h, w, weights.shape[0]]) as tf.Tensor3D;
}

/** Upsamples [T, h, w] maps to [T, size, size] (bilinear, pixel-centre aligned) and normalises each by its peak. */
export function upsampleAndNormalise(maps: tf.Tensor3D, size: number): { maps: tf.Tensor3D; peaks: tf.Tensor1D } {
  return tf.tidy(() => upsampleAndNormaliseLast(tf.transpose(maps, [1, 2, 0]) as tf.Tensor3D, size));
}

/**
 * {@link upsampleAndNormalise} for maps with the targets last, [h, w, T], the layout eq. 2's matmul gives and the
 * resize wants: the targets go in as channels of ONE image, not as a batch of one-channel images, so the resize
 * computes each pixel's taps once for all targets (wasm: 2× faster, same values), and no transpose is needed
 * before it (2 kernels fewer per call than normalising in [T, h, w]).
 */
function upsampleAndNormaliseLast(maps: tf.Tensor3D, size: number): { maps: tf.Tensor3D; peaks: tf.Tensor1D } {
  const [h, w, t] = maps.shape;
  const flat = tf.reshape(maps, [h * w, t]);
  const peaks = tf.max(flat, 0) as tf.Tensor1D;
  // Divide by the coarse peak on the coarse grid (bilinear interpolation is linear and
  // never exceeds it, so the result is in 0..1), not on the full-size maps. A map whose
  // peak is 0 is 0 everywhere (ReLU output), so the epsilon keeps it 0 without a tf.where.
  const norm = tf.reshape(tf.div(flat, tf.maximum(peaks, 1e-12)), [h, w, t]) as tf.Tensor3D;
  if (h === size && w === size) return { maps: tf.transpose(norm, [2, 0, 1]) as tf.Tensor3D, peaks };
  // halfPixelCenters: pixel i of the coarse grid covers the same input area as the
  // 32 input pixels it summarises, so the peak does not drift by half a cell.
  const up = tf.image.resizeBilinear(norm, [size, size], false, true);
  return { maps: tf.transpose(up, [2, 0, 1]) as tf.Tensor3D, peaks };
}

/**
 * Normalised class maps on their coarse grid [T, h, w] to the model input [T, size, size], by the same resize
 * as {@link upsampleAndNormalise} (whose normalisation comes first, on the coarse grid, so this gives its maps
 * exactly). analyze() keeps the class maps coarse and upsamples in the graph only the rows eq. 3 multiplies
 * (lesions/upsampleMap is the same interpolation in JS, for drawing and outlines). Not disposed.
 */
export function upsampleClassMaps(maps: tf.Tensor3D, size: number): tf.Tensor3D {
  const [t, h, w] = maps.shape;
  if (h === size && w === size) return maps.clone();
  if (t === 0) return tf.zeros([0, size, size]);
  return tf.tidy(() => tf.transpose(tf.image.resizeBilinear(tf.transpose(maps, [1, 2, 0]) as tf.Tensor3D, [size, size], false, true), [2, 0, 1]) as tf.Tensor3D);
}

/**
 * Grad-CAM maps for every target from already computed features A (one backward through the head).
 * Uses the exact window-sum weights of grad-cam-fast.ts when the head starts with a linear
 * stride-1 'same' convolution (both builders' heads do), else the full gradient.
 * @param a A = features(input), shape [1, h, w, k]; not disposed.
 * @param outSize side of the returned maps (the model input size).
 * @param z the head's first-convolution output for `a`, when the caller's forward pass kept it
 *   (explain/headForwardKeepingZ): the fast path then does not compute it again. Not disposed.
 */
export function gradCamFromFeatures(
  head: tf.LayersModel,
  a: tf.Tensor4D,
  targets: readonly ExplainTarget[],
  outSize: number,
  z?: tf.Tensor4D,
): { cams: tf.Tensor3D; peaks: tf.Tensor1D } {
  return camsFromFeatures(head, a, targets, outSize, true, z);
}

/** {@link gradCamFromFeatures} always through the full gradient ∂y/∂A (the reference the fast path is tested against). */
export function gradCamFromFeaturesFull(
  head: tf.LayersModel,
  a: tf.Tensor4D,
  targets: readonly ExplainTarget[],
  outSize: number,
): { cams: tf.Tensor3D; peaks: tf.Tensor1D } {
  return camsFromFeatures(head, a, targets, outSize, false);
}

function camsFromFeatures(
  head: tf.LayersModel,
  a: tf.Tensor4D,
  targets: readonly ExplainTarget[],
  outSize: number,
  allowFast: boolean,
  z?: tf.Tensor4D,
): { cams: tf.Tensor3D; peaks: tf.Tensor1D } {
  if (a.shape[0] !== 1) throw new RangeError('gradCam explains one image at a time (batch 1)');
  if (targets.length === 0) return { cams: tf.zeros([0, outSize, outSize]), peaks: tf.zeros([0]) };
  return tf.tidy(() => {
    const weights = (allowFast ? gradCamWeightsFast(head, a, targets, z) : null) ?? fullGradientWeights(head, a, targets);
    const { maps, peaks } = upsampleAndNormaliseLast(weightedActivationLast(a, weights), outSize);
    return { cams: maps, peaks };
  });
}

/** eq. 1 from the full gradient: A tiled once per target, one backward pass through the head. */
function fullGradientWeights(head: tf.LayersModel, a: tf.Tensor4D, targets: readonly ExplainTarget[]): tf.Tensor2D {
  const tiled = tf.tile(a, [targets.length, 1, 1, 1]) as tf.Tensor4D;
  // applyLayers (not head.apply): its plain-op Conv2D/BN skip the filter gradients that a
  // layer's own conv gradient always computes — wasted work when only ∂y/∂A is wanted.
  const grads = tf.grad((x: tf.Tensor) => diagonalObjective(applyLayers(head, x, { training: false })[0] as tf.Tensor2D, targets))(tiled) as tf.Tensor4D;
  return gradCamWeights(grads);
}

/**
 * Grad-CAM (paper eq. 1–2) for every target, with one forward pass of the features and one
 * backward pass through the head.
 * @param input [1, s, s, 3] model input (0..1); not disposed.
 */
export function gradCam(model: SplitModel, input: tf.Tensor4D, targets: readonly ExplainTarget[]): GradCamTensors {
  const size = input.shape[1];
  return tf.tidy(() => {
    const a = model.features.apply(input, { training: false }) as tf.Tensor4D;
    // one pass through the head's first convolution serves the logits and the Grad-CAM
    const split = headForwardKeepingZ(model.head, a);
    const logits = split ? split.logits : (model.head.apply(a, { training: false }) as tf.Tensor2D);
    const { cams, peaks } = gradCamFromFeatures(model.head, a, targets, size, split?.z);
    return { cams, peaks, logits };
  });
}
