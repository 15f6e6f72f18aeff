/**
 * Grad-CAM weights (paper eq. 1) without the wide gradient — an exact rewrite used by
 * gradCamFromFeatures whenever the head qualifies (bench: GC5 1.57 F -> 1.08 F on ResNet50, wasm).
 *
 * Grad-CAM needs only the spatial MEAN of ∂y^c/∂A (eq. 1), not the full gradient map. When the
 * head's first layer is a linear, stride-1, 'same' convolution z = W ⊛ A + b, that mean is
 *
 *   w_k^c = 1/(h·w) · Σ_{dy,dx,o} W[dy,dx,k,o] · S^c[dy,dx,o],
 *   S^c[dy,dx,o] = Σ over the output positions (i,j) whose tap (dy,dx) reads inside A of g^c[i,j,o],
 *
 * with g^c = ∂y^c/∂z. So the backward pass runs through the head only from z on (for ResNet50's
 * head: two 1×1 convolutions on 16×16×256 instead of the 3×3 2048→256 convolution, whose input
 * gradient for 5 labels costs ~6 GMAC, ¼ of a ResNet50 forward), and the wide gradient
 * [T, h, w, 2048] is never formed. Border taps are handled exactly by the window sums.
 */
import * as tf from '@tensorflow/tfjs';
import { applyLayers, buildTail } from '../model/graph';
import { diagonalObjective, type ExplainTarget } from './targets';
import { recordTail, tailGradient, type TailRecord } from './tail-pass';

interface FirstConv {
  layer: tf.layers.Layer;
  kernel: tf.Tensor4D;
  bias: tf.Tensor1D | null;
  /** name of the first conv layer: the tail (the head after it) is built from here per call */
  name: string;
}

/** The head's first layer when the fast path applies (linear stride-1 'same' Conv2D reading A), else null. */
function firstConv(head: tf.LayersModel): FirstConv | null {
  const layer = head.layers.find((l) => l.getClassName() !== 'InputLayer');
  if (!layer || layer.getClassName() !== 'Conv2D') return null;
  const c = layer.getConfig() as { strides: number[]; padding: string; dilationRate: number[] | number; activation: string; dataFormat: string };
  const dil = Array.isArray(c.dilationRate) ? c.dilationRate : [c.dilationRate, c.dilationRate];
  if (!(c.strides.every((s) => s === 1) && c.padding === 'same' && dil.every((d) => d === 1) && c.activation === 'linear' && c.dataFormat !== 'channelsFirst')) return null;
  const w = layer.getWeights();
  return { layer, kernel: w[0] as tf.Tensor4D, bias: (w[1] as tf.Tensor1D | undefined) ?? null, name: layer.name };
}

/** The head's forward pass split at its first convolution, see {@link headForwardKeepingZ}. */
export interface HeadForward {
  /** [1, labels], the same numbers as head.apply(a) */
  logits: tf.Tensor2D;
  /** the first convolution's output, for {@link gradCamWeightsFast} */
  z: tf.Tensor4D;
  /** every tensor the split holds (z, logits and the tail's recorded ReLU outputs): the caller disposes them */
  tensors: tf.Tensor[];
}

/** The tail records of the z tensors handed out by headForwardKeepingZ (tail-pass.ts). */
const tailRecords = new WeakMap<tf.Tensor, TailRecord>();

/**
 * The head's forward pass that keeps z, the output of its first convolution, so the Grad-CAM that
 * follows need not compute it again (for ResNet50's head a 3×3 2048→256 convolution: ~6 % of the
 * forward pass), and the tail's ReLU outputs, so the class maps' gradient through the tail needs no
 * forward of its own (tail-pass.ts). The same layers are applied in turn, so the logits are those of
 * head.apply(a), to the bit. Null when the fast path does not apply to this head. The caller disposes
 * {@link HeadForward.tensors}.
 */
export function headForwardKeepingZ(head: tf.LayersModel, a: tf.Tensor4D): HeadForward | null {
  return withTail(head, (fc, tail) => {
    const z = tf.tidy(() => fc.layer.apply(a, { training: false }) as tf.Tensor4D);
    try {
      const record = recordTail(tail(), z);
      if (record) {
        tailRecords.set(z, record);
        return { z, logits: record.output as tf.Tensor2D, tensors: [z, ...record.tensors] };
      }
      const logits = tf.tidy(() => tail().apply(z, { training: false }) as tf.Tensor2D);
      return { z, logits, tensors: [z, logits] };
    } catch (e) {
      z.dispose();
      throw e;
    }
  });
}

/**
 * Grad-CAM weights [T, k] (eq. 1) by the window-sum identity above; null when the head does not qualify.
 * @param z the first convolution's output for `a` when the caller has it ({@link headForwardKeepingZ}); not disposed
 */
export function gradCamWeightsFast(head: tf.LayersModel, a: tf.Tensor4D, targets: readonly ExplainTarget[], z?: tf.Tensor4D): tf.Tensor2D | null {
  return withTail(head, (fc, tail) => weightsFromTail(fc, tail, a, targets, z));
}

/**
 * ∂y/∂A for every target [T, h, w, k] through the head's first convolution written out: g = ∂y/∂z from the tail
 * (the head after that convolution, run on z), then ∂y/∂A = conv2dTranspose(g, W), the input gradient of a
 * stride-1 'same' convolution. The same numbers as tf.grad through the whole head (to float rounding), without
 * running the first convolution again on A tiled per target: for ResNet50's head (3×3 2048→256) that forward is
 * ~6 GMAC for five targets. HiResCAM needs this full gradient (it keeps it per cell); null when the head does
 * not qualify.
 * @param z the first convolution's output for `a` ({@link headForwardKeepingZ}), or omitted to compute it
 */
export function headGradientFast(head: tf.LayersModel, a: tf.Tensor4D, targets: readonly ExplainTarget[], z?: tf.Tensor4D): tf.Tensor4D | null {
  return withTail(head, (fc, tail) =>
    tf.tidy(() => {
      const g = gradientAtZ(fc, tail, a, targets, z);
      const [, h, w, k] = a.shape;
      return tf.conv2dTranspose(g, fc.kernel, [targets.length, h, w, k], 1, 'same');
    }),
  );
}

/**
 * Guided backprop's gradient of each target with respect to A through the head ([T, …A's shape], the seeds of
 * guided-pass.ts), from the tail recorded with `z` by {@link headForwardKeepingZ}: the tail's backward with the
 * guided rule, then the first convolution's input gradient. No forward pass; null when `z` has no live record.
 */
export function guidedSeedsFromZ(head: tf.LayersModel, a: tf.Tensor4D, targets: readonly ExplainTarget[], z: tf.Tensor4D): tf.Tensor4D | null {
  const record = tailRecords.get(z);
  if (!record) return null;
  return withTail(head, (fc) => {
    const g = tailGradient(record, targets, 'guided');
    if (!g) return null;
    const [, h, w, k] = a.shape;
    try {
      return tf.conv2dTranspose(g, fc.kernel, [targets.length, h, w, k], 1, 'same');
    } finally {
      g.dispose();
    }
  });
}

/**
 * Runs `fn` with the head's first convolution and a getter for its tail (the head after it), or returns null when
 * the fast paths do not apply. The tail is built on first use only (the recorded paths of tail-pass.ts need none;
 * ~0.3 ms of JS per build for the demo head) and disposed after use, because a cached one would hold a reference on
 * the head's shared layers and keep their weights alive after the model itself is disposed.
 */
function withTail<T>(head: tf.LayersModel, fn: (fc: FirstConv, tail: () => tf.LayersModel) => T): T | null {
  const fc = firstConv(head);
  if (!fc) return null;
  let tail: tf.LayersModel | null = null;
  try {
    return fn(fc, () => (tail ??= buildTail(head, fc.name, `${head.name}_after_${fc.name}`)));
  } finally {
    (tail as tf.LayersModel | null)?.dispose();
  }
}

/**
 * g = ∂y/∂z [T, h, w, f] for every target: from the tail's record when `z` came from headForwardKeepingZ (no
 * forward pass), else z (the given one, or the first convolution of `a`) tiled once per target through the tail.
 */
function gradientAtZ(fc: FirstConv, tail: () => tf.LayersModel, a: tf.Tensor4D, targets: readonly ExplainTarget[], z?: tf.Tensor4D): tf.Tensor4D {
  const record = z ? tailRecords.get(z) : undefined;
  const fromRecord = record ? tailGradient(record, targets) : null;
  if (fromRecord) return fromRecord;
  const zz = z ?? (fc.layer.apply(a, { training: false }) as tf.Tensor4D);
  return tf.grad((x: tf.Tensor) => diagonalObjective(applyLayers(tail(), x, { training: false })[0] as tf.Tensor2D, targets))(
    tf.tile(zz, [targets.length, 1, 1, 1]),
  ) as tf.Tensor4D;
}

function weightsFromTail(fc: FirstConv, tail: () => tf.LayersModel, a: tf.Tensor4D, targets: readonly ExplainTarget[], given?: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const [, h, w] = a.shape;
    const [kh, kw, k, f] = fc.kernel.shape;
    const t = targets.length;
    const g = gradientAtZ(fc, tail, a, targets, given);
    // TF 'same' padding for stride 1: pad_before = floor((k - 1) / 2)
    const pt = Math.floor((kh - 1) / 2);
    const pl = Math.floor((kw - 1) / 2);
    // All kh·kw window sums of all targets in ONE plain matmul, g laid out [T·f, h·w] × the 0/1 windows
    // [h·w, kh·kw]: one kernel instead of a slice and a sum per tap (on wasm those 2·kh·kw small kernels cost
    // as much as the rest of the head; on a GPU each is a dispatch). Operand order: wasm's matmul packs its
    // right operand afresh for every new tensor (XNNPACK caches the packing per weights tensor), ~1 ms for a
    // [256, 640] one, so the large per-call operand goes on the left and the small one on the right, here and
    // in [k, kh·kw·f] × [kh·kw·f, T] below (measured: 3.1 → ~0.5 ms for the two matmuls, demo head).
    // The windows hold 1/(h·w), eq. 1's mean, so no division follows.
    const taps = kh * kw;
    const win = new Float32Array(h * w * taps);
    const unit = 1 / (h * w);
    for (let dy = 0; dy < kh; dy++) {
      const i0 = Math.max(0, pt - dy);
      const i1 = Math.min(h, h + pt - dy);
      for (let dx = 0; dx < kw; dx++) {
        const j0 = Math.max(0, pl - dx);
        const j1 = Math.min(w, w + pl - dx);
        const tap = dy * kw + dx;
        for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) win[(i * w + j) * taps + tap] = unit;
      }
    }
    const gt = tf.reshape(tf.transpose(g, [0, 3, 1, 2]), [t * f, h * w]);
    const byTap = tf.matMul(gt, tf.tensor2d(win, [h * w, taps])); // [T·f, kh·kw]
    const s = tf.reshape(tf.transpose(tf.reshape(byTap, [t, f, kh * kw]), [2, 1, 0]), [kh * kw * f, t]); // [(tap, o), T]
    // The kernel goes on the left in a per-call layout. In byTap's (o, tap) order it could take the right side with
    // no transposes of byTap, but tfjs-wasm packs a right operand again for every new tensor: 0.72 ms against 0.23
    // ms for this contraction (demo head), unless the reordered kernel were kept with the model.
    const wk = tf.reshape(tf.transpose(fc.kernel, [2, 0, 1, 3]), [k, kh * kw * f]); // [k, (tap, o)]
    return tf.transpose(tf.matMul(wk, s)) as tf.Tensor2D;
  });
}
