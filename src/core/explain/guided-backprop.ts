/**
 * Guided Backpropagation — Springenberg et al. 2015 ("Striving for simplicity: the all
 * convolutional net"), the I^c_Guided-Backprop of Jiang et al. §II.D (input to eq. 3).
 *
 * At every ReLU the backward pass keeps a gradient only where BOTH the forward input was
 * positive (ordinary ReLU backprop) AND the incoming gradient is positive:
 *   R^l = [f^l > 0] · [R^{l+1} > 0] · R^{l+1}
 * Implemented as a tf.customGrad ReLU swapped in while model/graph.applyLayers walks the
 * net layer by layer, so the shared model is never mutated.
 *
 * Caveat (Adebayo et al. 2018, "Sanity checks for saliency maps"): guided backprop is nearly
 * independent of the trained weights and behaves like an edge detector; it is shown only as
 * the fine-grained factor of Guided Grad-CAM, never on its own, and outlines default to Grad-CAM.
 */
import * as tf from '@tensorflow/tfjs';
import { applyLayers, inputConsumers } from '../model/graph';
import type { LesionContrast } from '../types';
import { diagonalObjective, type ExplainTarget } from './targets';

/** ReLU whose gradient is the guided one (forward identical to tf.relu). */
export const guidedRelu: (x: tf.Tensor) => tf.Tensor = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
  const xt = x as tf.Tensor;
  (save as tf.GradSaveFunc)([xt]);
  return {
    value: tf.relu(xt),
    // [x > 0]·[dy > 0]·dy written as relu(dy)·step(x): one op fewer per ReLU.
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(tf.relu(dy), tf.step(saved[0])),
  };
}) as (x: tf.Tensor) => tf.Tensor;

/** Options of {@link guidedBackprop}. */
export interface GuidedBackpropOptions {
  /**
   * Targets per backward pass. The input is tiled once per target so one pass serves several
   * labels (fewer kernel launches: on wasm 2 labels in one pass took 1.3 s vs 2.0 s one by one
   * for the compact net at 512²), at the cost of that many times the activation memory.
   * Default: as many as fit in `memoryBudgetBytes` (at most 4).
   */
  labelsPerPass?: number;
  /**
   * Memory a backward pass may use (default 1.5 GiB: wasm's heap is capped at 4 GiB). Measured
   * peak of one guided-backprop pass ≈ 4 × the summed layer outputs of one image
   * (ResNet50 at 512²: 3.1 GB for 752 MB of activations, so 1 label per pass; compact w16: 125 MB, so 4).
   */
  memoryBudgetBytes?: number;
}

const MEMORY_PER_ACTIVATION_BYTE = 4;

/** Summed float32 size of every layer output of `net` for ONE image (bytes). */
export function activationBytes(net: tf.LayersModel): number {
  let n = 0;
  for (const layer of net.layers) {
    const shapes = (Array.isArray(layer.outputShape[0]) ? layer.outputShape : [layer.outputShape]) as (number | null)[][];
    for (const shape of shapes) n += shape.slice(1).reduce<number>((a, d) => a * (d ?? 1), 1);
  }
  return n * 4;
}

/** Labels per guided-backprop pass that fit `budget` bytes (1..4). */
export function defaultLabelsPerPass(net: tf.LayersModel, budget = 1.5 * 2 ** 30): number {
  const perLabel = MEMORY_PER_ACTIVATION_BYTE * activationBytes(net);
  return Math.max(1, Math.min(4, Math.floor(budget / Math.max(perLabel, 1))));
}

/**
 * Guided-backprop gradients d y^c / d input for each target.
 * @param net input -> logits; not modified.
 * @param input [1, s, s, c]; not disposed.
 * @returns [targets, s, s, c] raw guided gradients; caller disposes.
 */
export function guidedBackprop(
  net: tf.LayersModel,
  input: tf.Tensor4D,
  targets: readonly ExplainTarget[],
  o: GuidedBackpropOptions = {},
): tf.Tensor4D {
  if (input.shape[0] !== 1) throw new RangeError('guidedBackprop explains one image at a time (batch 1)');
  const [, h, w, c] = input.shape;
  if (targets.length === 0) return tf.zeros([0, h, w, c]);
  return inPasses(net, targets, o, (group) => {
    const tiled = tf.tile(input, [group.length, 1, 1, 1]) as tf.Tensor4D;
    return tf.grad((x: tf.Tensor) => {
      const [logits] = applyLayers(net, x, { reluOverride: guidedRelu, training: false });
      return diagonalObjective(logits as tf.Tensor2D, group);
    })(tiled) as tf.Tensor4D;
  });
}

/** Runs `pass` on groups of targets (labelsPerPass of them, see GuidedBackpropOptions), each in a tidy, and stacks the results. */
function inPasses<T extends tf.Tensor>(net: tf.LayersModel, targets: readonly ExplainTarget[], o: GuidedBackpropOptions, pass: (group: readonly ExplainTarget[]) => T): T {
  const per = Math.max(1, Math.floor(o.labelsPerPass ?? defaultLabelsPerPass(net, o.memoryBudgetBytes)));
  const chunks: T[] = [];
  for (let start = 0; start < targets.length; start += per) {
    const group = targets.slice(start, start + per);
    chunks.push(tf.tidy(() => pass(group)));
  }
  if (chunks.length === 1) return chunks[0];
  const all = tf.concat(chunks) as T;
  chunks.forEach((t) => t.dispose());
  return all;
}

/** The model's first layer when it is a linear Conv2D reading the input alone (the channel-sum path applies), else null. */
function inputConv(net: tf.LayersModel): tf.layers.Layer | null {
  const readers = inputConsumers(net);
  if (readers.length !== 1 || readers[0].getClassName() !== 'Conv2D') return null;
  const c = readers[0].getConfig() as { activation: string; dataFormat: string; dilationRate: number[] | number };
  const dil = Array.isArray(c.dilationRate) ? c.dilationRate : [c.dilationRate, c.dilationRate];
  return c.activation === 'linear' && c.dataFormat !== 'channelsFirst' && dil.every((d) => d === 1) ? readers[0] : null;
}

/**
 * Σ over colour channels of the guided-backprop gradient, [targets, s, s], or null when the
 * model does not start with a linear Conv2D. The same numbers as tf.sum(guidedBackprop(…), 3) to
 * float rounding, for less work: with W the first convolution's kernel, Σ_c ∂y/∂x_c is the input
 * gradient of a ONE-channel image through the kernel W_Σ = Σ_c W[·, ·, c, ·] (the photo plus u in
 * every channel gives conv(x, W) + conv(u, W_Σ), differentiated at u = 0). So the backward pass
 * through the first convolution, the widest in the net, computes one output channel instead of
 * three (demo model, 512², Node wasm: a guided pass 89.5 → 83.8 ms). The forward value is the
 * layer's own.
 */
export function guidedChannelSum(net: tf.LayersModel, input: tf.Tensor4D, targets: readonly ExplainTarget[], o: GuidedBackpropOptions = {}): tf.Tensor3D | null {
  if (input.shape[0] !== 1) throw new RangeError('guidedChannelSum explains one image at a time (batch 1)');
  const first = inputConv(net);
  if (!first) return null;
  const [, h, w] = input.shape;
  if (targets.length === 0) return tf.zeros([0, h, w]);
  const { strides, padding } = first.getConfig() as { strides: [number, number]; padding: 'same' | 'valid' };
  return inPasses(net, targets, o, (group) => {
    const n = group.length;
    const tiled = tf.tile(input, [n, 1, 1, 1]) as tf.Tensor4D;
    const kernel = first.getWeights()[0] as tf.Tensor4D;
    const summed = tf.sum(kernel, 2, true) as tf.Tensor4D; // [kh, kw, 1, out]
    const firstOutput = tf.customGrad((u: tf.Tensor | tf.GradSaveFunc) => ({
      // the layer's own output for the photo; u (zeros) only carries the gradient
      value: first.apply(tiled, { training: false }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor) => tf.conv2dTranspose(dy as tf.Tensor4D, summed, [n, h, w, 1], strides, padding),
    })) as (u: tf.Tensor) => tf.Tensor;
    const du = tf.grad((u: tf.Tensor) => {
      const [logits] = applyLayers(net, tiled, {
        reluOverride: guidedRelu,
        training: false,
        layerOverride: (layer) => (layer === first ? firstOutput(u) : null),
      });
      return diagonalObjective(logits as tf.Tensor2D, group);
    })(tf.zeros([n, h, w, 1]));
    return tf.reshape(du, [n, h, w]) as tf.Tensor3D;
  });
}

/**
 * Eq. 3's fine factor for each target: {@link guidedSaliency} of {@link guidedBackprop}, through
 * {@link guidedChannelSum} when every target has a lesion contrast (the signed map needs only the
 * channel sum) and the model allows it. What analyze() and the evaluation use.
 * @param contrast one entry per target (see guidedSaliency), or omitted for the unsigned map
 * @returns [targets, s, s], each map divided by its peak
 */
export function guidedSaliencyMaps(
  net: tf.LayersModel,
  input: tf.Tensor4D,
  targets: readonly ExplainTarget[],
  contrast?: readonly (LesionContrast | null)[],
  o: GuidedBackpropOptions = {},
): tf.Tensor3D {
  if (contrast && contrast.length !== targets.length) throw new RangeError(`guidedSaliencyMaps: ${contrast.length} contrasts for ${targets.length} targets`);
  if (contrast && contrast.length > 0 && contrast.every((c) => c !== null)) {
    const sums = guidedChannelSum(net, input, targets, o);
    if (sums) {
      try {
        return saliencyFromChannelSums(sums, contrast);
      } finally {
        sums.dispose();
      }
    }
  }
  return tf.tidy(() => guidedSaliency(guidedBackprop(net, input, targets, o), contrast));
}

/**
 * The signed saliency of {@link guidedSaliency} from the channel sums Σ_c gradient [T, s, s] alone (every row has a
 * contrast): ReLU(±sum), + for bright lesions, − for dark ones, each map divided by its peak. `sums` is not disposed.
 */
export function saliencyFromChannelSums(sums: tf.Tensor3D, contrast: readonly (LesionContrast | null)[]): tf.Tensor3D {
  if (contrast.length !== sums.shape[0] || contrast.some((c) => c === null)) throw new RangeError('saliencyFromChannelSums: one non-null contrast per map');
  return tf.tidy(() => {
    const signs = tf.tensor3d(contrast.map((c) => (c === 'bright' ? 1 : -1)), [contrast.length, 1, 1]);
    return byPeak(tf.relu(tf.mul(sums, signs)) as tf.Tensor3D);
  });
}

/**
 * One saliency value per pixel, each map divided by its peak (0..1).
 *
 * Without `contrast` (or for a row whose contrast is null): max over colour channels of |gradient|, which keeps a
 * lesion that shows in one channel only instead of averaging it away — but also answers to every strong edge of
 * either sign.
 *
 * With a contrast per row: ReLU(±Σ_c gradient_c), + for a bright lesion, − for a dark one: only pixels where
 * making the photo brighter (darker) raises the label's score. Why: the unsigned map of a microaneurysm (a dark
 * dot) peaked on the bright centre of a nearby cotton-wool spot in the same 32-px Grad-CAM cell in 8 of 9 misses
 * (session 4); the signed map does not answer there. Measured on 150 held-out synthetic photos, pointing game
 * of BP/MA with HiResCAM: 71 % (abs) → 95 % (contrast), the other labels unchanged (training/README.md).
 * @param grads [T, s, s, c] -> [T, s, s]
 * @param contrast one entry per row of `grads`, or omitted for the unsigned map everywhere
 */
export function guidedSaliency(grads: tf.Tensor4D, contrast?: readonly (LesionContrast | null)[]): tf.Tensor3D {
  const [t] = grads.shape;
  if (contrast && contrast.length !== t) throw new RangeError(`guidedSaliency: ${contrast.length} contrasts for ${t} maps`);
  const signs = contrast?.map((c) => (c === 'bright' ? 1 : c === 'dark' ? -1 : 0)) ?? [];
  return tf.tidy(() => {
    let m: tf.Tensor3D;
    if (signs.length && signs.every((s) => s !== 0)) {
      m = signedSum(grads, signs);
    } else if (signs.some((s) => s !== 0)) {
      const signed = signedSum(grads, signs);
      const useSigned = tf.tensor3d(signs.map((s) => (s !== 0 ? 1 : 0)), [t, 1, 1]);
      m = tf.add(tf.mul(signed, useSigned), tf.mul(tf.max(tf.abs(grads), 3), tf.sub(1, useSigned))) as tf.Tensor3D;
    } else {
      m = tf.max(tf.abs(grads), 3) as tf.Tensor3D;
    }
    return byPeak(m);
  });
}

/** Each map [t, s, s] divided by its own peak (an all-zero map stays 0). */
function byPeak(m: tf.Tensor3D): tf.Tensor3D {
  const t = m.shape[0];
  const peak = tf.reshape(tf.max(tf.reshape(m, [t, -1]), 1), [t, 1, 1]);
  return tf.div(m, tf.maximum(peak, 1e-12)) as tf.Tensor3D;
}

/** ReLU(sign_t · Σ_c g) per row t (rows with sign 0 come out 0). */
function signedSum(grads: tf.Tensor4D, signs: number[]): tf.Tensor3D {
  const s = tf.tensor3d(signs, [signs.length, 1, 1]);
  return tf.relu(tf.mul(tf.sum(grads, 3), s)) as tf.Tensor3D;
}
