/**
 * The head's tail (the layers after its first convolution) run ONCE, at batch 1, with what its backward needs
 * kept, and that backward written out for a batch of targets.
 *
 * gradientAtZ (grad-cam-fast.ts) otherwise gets every target's ∂y/∂z from tf.grad on z tiled once per target: the
 * tail's forward runs again on T identical copies (demo head, 5 labels: 1.7 ms of a 10 ms Grad-CAM on wasm) only
 * to record the ReLU masks the analysis' own forward already computed. Here the analysis' forward
 * (headForwardKeepingZ) keeps those masks, and the backward runs once for all targets:
 *   GlobalAveragePooling2D   ∂/∂x = ∂/∂y broadcast over the grid ÷ (h·w)
 *   ReLU (a layer or fused)  × [y > 0]          Conv2D: conv2dTranspose with the layer's kernel
 *   inference BatchNorm      × γ/√(σ² + ε)      Dropout, linear Activation: identity
 * With the guided rule at the ReLUs it also gives guided backprop's seeds (guided-pass.ts) with no forward pass.
 * It covers heads that are a chain of those layers (both builders' heads are); any other tail keeps tf.grad.
 * The gradients equal tf.grad's to float rounding (tests).
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormScale, modelNodes, reluOrLinear, type GraphNode } from '../model/graph';
import { diagonalObjective, logitMask, type ExplainTarget } from './targets';

const SUPPORTED = new Set(['Conv2D', 'ReLU', 'Activation', 'BatchNormalization', 'Dropout', 'GlobalAveragePooling2D']);

/** True when `nodes` form a chain from the tail's input that this file has a backward rule for. */
function isSupportedChain(tail: tf.LayersModel, nodes: GraphNode[]): boolean {
  if (tail.inputs.length !== 1 || tail.outputs.length !== 1 || nodes.length === 0) return false;
  let prev = tail.inputs[0].id;
  for (const [i, node] of nodes.entries()) {
    const layer = node.outboundLayer;
    const cls = layer.getClassName();
    if (!SUPPORTED.has(cls) || reluOrLinear(layer) === null) return false;
    if (node.inputTensors.length !== 1 || node.outputTensors.length !== 1 || node.inputTensors[0].id !== prev) return false;
    const c = layer.getConfig() as { dataFormat?: string; dilationRate?: number | number[]; axis?: number; keepDims?: boolean };
    if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') return false;
    if (cls === 'Conv2D' && [c.dilationRate ?? 1].flat().some((d) => d !== 1)) return false;
    if (cls === 'BatchNormalization' && c.axis !== -1 && c.axis !== 3) return false;
    // the pooling must be the last layer and give [b, channels] (the logits)
    if (cls === 'GlobalAveragePooling2D' && (i !== nodes.length - 1 || c.keepDims)) return false;
    prev = node.outputTensors[0].id;
  }
  return prev === tail.outputs[0].id;
}

/** The tail's forward at batch 1 with its ReLU outputs; from {@link recordTail}. */
export interface TailRecord {
  /** the tail's output (the logits), the same values as tail.apply(z) */
  readonly output: tf.Tensor;
  /** every tensor the record holds, output included: the caller disposes them */
  readonly tensors: readonly tf.Tensor[];
}

interface Step {
  layer: tf.layers.Layer;
  /** the layer's input shape (batch 1) */
  inShape: number[];
  /** the ReLU output when the layer ends in one */
  relu: tf.Tensor | null;
}

const steps = new WeakMap<TailRecord, Step[]>();

/**
 * Runs `tail` on z [1, …] layer by layer (the layers' own calls, so the output is that of tail.apply to the bit),
 * keeping the ReLU outputs its backward needs. Null when the tail is not a chain of supported layers.
 */
export function recordTail(tail: tf.LayersModel, z: tf.Tensor4D): TailRecord | null {
  if (z.shape[0] !== 1) throw new RangeError('recordTail: one image at a time (batch 1)');
  const nodes = modelNodes(tail);
  if (!isSupportedChain(tail, nodes)) return null;
  const kept: tf.Tensor[] = [];
  const list: Step[] = [];
  let x: tf.Tensor = z;
  try {
    for (const node of nodes) {
      const layer = node.outboundLayer;
      const y = layer.apply(x, { ...(node.callArgs ?? {}), training: false }) as tf.Tensor;
      const relu = reluOrLinear(layer) === 'relu' ? y : null;
      if (relu) kept.push(relu);
      list.push({ layer, inShape: x.shape, relu });
      // an intermediate nobody keeps is released at once (z is the caller's)
      if (x !== z && !kept.includes(x)) x.dispose();
      x = y;
    }
  } catch (e) {
    if (x !== z && !kept.includes(x)) x.dispose();
    tf.dispose(kept);
    throw e;
  }
  if (!kept.includes(x)) kept.push(x);
  const record: TailRecord = { output: x, tensors: kept };
  steps.set(record, list);
  return record;
}

/**
 * ∂ score_t / ∂z for every target t, [T, …z's shape], from a record of the tail's forward; `null` when `record`
 * is not from {@link recordTail} or one of its tensors was disposed.
 * @param rule 'plain': the gradient; 'guided': guided backpropagation's rule at every ReLU (Springenberg et al.:
 *   only positive gradients pass, where the forward was positive), as explain/guided-backprop applies it
 */
export function tailGradient(record: TailRecord, targets: readonly ExplainTarget[], rule: 'plain' | 'guided' = 'plain'): tf.Tensor4D | null {
  const list = steps.get(record);
  if (!list || record.tensors.some((t) => t.isDisposed)) return null;
  const t = targets.length;
  return tf.tidy(() => {
    const out = record.output as tf.Tensor2D;
    const labels = out.shape[1];
    // ∂ score_t / ∂ logits for every row: for logit targets the 0/1 mask itself (what tf.grad of diagonalObjective
    // gives, without its ~8 kernels), else the targets' own differentiable scores
    const mask = logitMask(targets, labels);
    let g: tf.Tensor | null = null;
    /** g's spatial size when it is the same at every position and kept as [T, 1, 1, c] (see below), else null */
    let flat: { h: number; w: number } | null = null;
    for (let i = list.length - 1; i >= 0; i--) {
      const { layer, inShape, relu } = list[i];
      if (relu) {
        g ??= seed(null);
        g = tf.mul(rule === 'guided' ? tf.relu(g) : g, tf.step(relu)); // broadcasts a constant g over the grid
        flat = null;
      }
      switch (layer.getClassName()) {
        case 'GlobalAveragePooling2D': {
          // The pooling's gradient is the same at every position: it stays [T, 1, 1, c] through the 1×1
          // convolutions and BN scales that follow (matmuls on T rows instead of T·h·w) and is broadcast only
          // where something varies over the grid (a ReLU mask) or at the end.
          const [, h, w, c] = inShape;
          g = tf.reshape(g === null ? seed(h * w) : tf.div(g, h * w), [t, 1, 1, c]);
          flat = { h, w };
          break;
        }
        case 'Conv2D': {
          const c = layer.getConfig() as unknown as { strides: [number, number]; padding: 'same' | 'valid' };
          const kernel = (layer as unknown as { kernel: { read(): tf.Tensor4D } }).kernel.read();
          g ??= seed(null);
          const [, ih, iw, ci] = inShape;
          const [kh, kw] = kernel.shape;
          if (flat && kh === 1 && kw === 1 && c.strides[0] === 1 && c.strides[1] === 1) {
            // a 1×1 stride-1 convolution of a gradient that is the same everywhere is that same convolution at
            // every position: computed on a 1×1 grid (T·ci values, not T·h·w·ci)
            g = tf.conv2dTranspose(g as tf.Tensor4D, kernel, [t, 1, 1, ci], 1, 'valid');
          } else {
            if (flat) g = tf.broadcastTo(g, [t, flat.h, flat.w, g.shape[3]!]);
            flat = null;
            g = tf.conv2dTranspose(g as tf.Tensor4D, kernel, [t, ih, iw, ci], c.strides, c.padding);
          }
          break;
        }
        case 'BatchNormalization': {
          const s = batchNormScale(layer, (g ??= seed(null)).rank);
          if (!s) throw new Error(`tailGradient: ${layer.name} is not a last-axis BatchNormalization`);
          g = tf.mul(g, s.scale);
          break;
        }
        default: // ReLU / Activation (handled above), Dropout: identity
      }
    }
    g ??= seed(null);
    if (flat) g = tf.broadcastTo(g, [t, flat.h, flat.w, g.shape[3]!]);
    return g as tf.Tensor4D;

    /** ∂ score / ∂ logits [T, labels]; divided by `pool` (the pooling's h·w, folded in on the host) when given */
    function seed(pool: number | null): tf.Tensor {
      if (mask) return tf.tensor2d(pool ? mask.map((v) => v / pool) : mask, [t, labels]);
      const d = tf.grad((l: tf.Tensor) => diagonalObjective(l as tf.Tensor2D, targets))(tf.tile(out, [t, 1]));
      return pool ? tf.div(d, pool) : d;
    }
  });
}
