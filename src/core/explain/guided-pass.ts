/**
 * Guided Backpropagation — Springenberg et al. 2015; Jiang et al. §II.D (the input to eq. 3) — with ONE
 * forward pass for the analysis and for every label.
 *
 * tf.grad records its own forward pass each time it is called, so the tf.grad path of guided-backprop.ts runs
 * the backbone forward once more per guided map (on a batch of the input tiled per label), on top of the
 * analysis' own forward: F × (1 + k) of forward work for k maps where the issue's floor, F × (1 + 2k), counts
 * one. Here the analysis' forward is run node by node and keeps what the backward needs (the ReLU outputs,
 * whose sign is the forward mask, and the max-pool inputs and outputs); the backward is written out per layer
 * and runs once for a batch of k seeds, one per label:
 *   ReLU (a layer or fused in a Conv2D)   R^l = [f^l > 0] · [R^{l+1} > 0] · R^{l+1}   (guided rule)
 *   Conv2D                                 conv2dTranspose with the layer's kernel (the filter gradient is not needed)
 *   inference BatchNormalization           × γ/√(σ² + ε)
 *   MaxPooling2D                           MaxPoolGrad with the recorded input and output
 *   Add                                    the gradient to every input; ZeroPadding2D: a slice; Dropout: identity
 * The seeds are the guided gradients of each target's logit with respect to the features' output, through the
 * (small) head with tf.grad. The result equals guidedBackprop() of the whole net to float rounding (tests).
 *
 * It also keeps less memory than a tape: a ReLU output per activation layer instead of every layer output.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormScale, modelNodes, reluOrLinear, type GraphNode } from '../model/graph';
import type { LesionContrast } from '../types';
import { guidedSeedsFromZ } from './grad-cam-fast';
import { guidedBackprop, guidedSaliency, saliencyFromChannelSums } from './guided-backprop';
import type { ExplainTarget } from './targets';

/** Layer classes the hand-written backward knows; a net with any other layer is not recorded (null). */
const SUPPORTED = new Set(['Conv2D', 'BatchNormalization', 'ReLU', 'Activation', 'MaxPooling2D', 'Add', 'ZeroPadding2D', 'Dropout']);

interface ConvConfig {
  strides: [number, number];
  padding: 'same' | 'valid';
  dilationRate: number | number[];
  dataFormat: string;
  activation: string;
}

/** Why `node` cannot be recorded, or null when its backward is written out below. */
function unsupported(node: GraphNode): string | null {
  const layer = node.outboundLayer;
  const cls = layer.getClassName();
  if (!SUPPORTED.has(cls)) return `layer class ${cls}`;
  if (node.outputTensors.length !== 1) return `${layer.name} has ${node.outputTensors.length} outputs`;
  if (reluOrLinear(layer) === null) return `${layer.name}: activation other than relu/linear`;
  const c = layer.getConfig() as Partial<ConvConfig> & { axis?: number; padding?: unknown };
  if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') return `${layer.name}: ${c.dataFormat}`;
  if (cls === 'Conv2D' || cls === 'MaxPooling2D') {
    if (c.padding !== 'same' && c.padding !== 'valid') return `${layer.name}: padding ${String(c.padding)}`;
  }
  if (cls === 'Conv2D') {
    const d = Array.isArray(c.dilationRate) ? c.dilationRate : [c.dilationRate ?? 1];
    if (d.some((v) => v !== 1)) return `${layer.name}: dilation`;
  }
  if (cls === 'BatchNormalization' && c.axis !== -1 && c.axis !== 3) return `${layer.name}: axis ${c.axis}`;
  return null;
}

/** The features net's forward pass with what the guided backward needs; from {@link recordFeatures}. */
export interface FeaturesRecord {
  /** the features' output A, [1, h, w, c]: the same values as `features.apply(input)`. Owned by the record. */
  readonly output: tf.Tensor4D;
  /** true when the model input is read by one Conv2D only, so {@link guidedBackwardFromRecord} can return Σ_c directly */
  readonly channelSumAvailable: boolean;
  /** bytes the record holds besides `output` (ReLU outputs, max-pool inputs/outputs) */
  readonly keptBytes: number;
  /** releases every tensor of the record (safe to call twice) */
  dispose(): void;
}

class Recorded implements FeaturesRecord {
  disposed = false;
  constructor(
    readonly output: tf.Tensor4D,
    readonly input: tf.Tensor4D,
    readonly nodes: GraphNode[],
    readonly inputId: number,
    readonly outputId: number,
    readonly kept: Map<number, tf.Tensor>,
    readonly shapes: Map<number, number[]>,
    readonly channelSumAvailable: boolean,
  ) {}
  get keptBytes(): number {
    let n = 0;
    for (const t of new Set(this.kept.values())) if (t !== this.output) n += t.size * 4;
    return n;
  }
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([...new Set([...this.kept.values(), this.output])]);
    this.kept.clear();
  }
}

/**
 * Runs `features` (one input, one output) on `input` [1, s, s, c] layer by layer with the layers' own calls,
 * keeping what {@link guidedBackwardFromRecord} needs. Other intermediate tensors are released as soon as their last
 * reader has run, as the model's own execution does. Returns null when the net has a layer the hand-written
 * backward does not cover (the caller then runs the model as usual and uses the tf.grad path). The record's
 * tensors are tf.keep'd: a tf.tidy around this call does not release them; {@link FeaturesRecord.dispose} does.
 */
export function recordFeatures(features: tf.LayersModel, input: tf.Tensor4D): FeaturesRecord | null {
  if (input.shape[0] !== 1) throw new RangeError('recordFeatures: one image at a time (batch 1)');
  if (features.inputs.length !== 1 || features.outputs.length !== 1) return null;
  const nodes = modelNodes(features);
  if (nodes.some((n) => unsupported(n) !== null)) return null;
  const inputId = features.inputs[0].id;
  const outputId = features.outputs[0].id;
  const uses = new Map<number, number>();
  for (const n of nodes) for (const t of n.inputTensors) uses.set(t.id, (uses.get(t.id) ?? 0) + 1);
  const readers = nodes.filter((n) => n.inputTensors.some((t) => t.id === inputId));
  const channelSumAvailable = readers.length === 1 && readers[0].outboundLayer.getClassName() === 'Conv2D' && readers[0].inputTensors.length === 1;

  const values = new Map<number, tf.Tensor>([[inputId, input]]);
  const kept = new Map<number, tf.Tensor>();
  const shapes = new Map<number, number[]>([[inputId, input.shape]]);
  try {
    for (const node of nodes) {
      const layer = node.outboundLayer;
      const args = node.inputTensors.map((t) => values.get(t.id));
      if (args.some((a) => a === undefined)) continue; // not reachable from the input
      const x = args.length === 1 ? (args[0] as tf.Tensor) : (args as tf.Tensor[]);
      const out = layer.apply(x, { ...(node.callArgs ?? {}), training: false }) as tf.Tensor;
      const id = node.outputTensors[0].id;
      values.set(id, out);
      shapes.set(id, out.shape);
      if (reluOrLinear(layer) === 'relu') kept.set(id, tf.keep(out));
      if (layer.getClassName() === 'MaxPooling2D') {
        kept.set(id, tf.keep(out));
        // the caller's input is never kept (nor disposed) by the record
        if (node.inputTensors[0].id !== inputId) kept.set(node.inputTensors[0].id, tf.keep(args[0] as tf.Tensor));
      }
      for (const t of node.inputTensors) {
        const left = (uses.get(t.id) ?? 0) - 1;
        uses.set(t.id, left);
        if (left === 0 && t.id !== inputId && !kept.has(t.id)) {
          values.get(t.id)?.dispose();
          values.delete(t.id);
        }
      }
    }
    const output = values.get(outputId) as tf.Tensor4D | undefined;
    if (!output) throw new Error('recordFeatures: the output is not computable from the input');
    tf.keep(output);
    // anything left (a branch nobody reads) is not needed
    for (const [id, t] of values) if (id !== inputId && id !== outputId && !kept.has(id)) t.dispose();
    return new Recorded(output, input, nodes, inputId, outputId, kept, shapes, channelSumAvailable);
  } catch (e) {
    for (const [id, t] of values) if (id !== inputId) t.dispose();
    tf.dispose([...kept.values()]);
    throw e;
  }
}

/** The guided rule at a ReLU whose forward output is y (y > 0 exactly where its input was). */
function guidedThroughRelu(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.mul(tf.relu(dy), tf.step(y));
}

function tiled(t: tf.Tensor, k: number): tf.Tensor {
  return k === 1 ? t : tf.tile(t, [k, ...t.shape.slice(1).map(() => 1)]);
}

/** Input gradients of one node for output gradient dy [k, …] (one entry per node input; called inside tf.tidy). */
function nodeBackward(rec: Recorded, node: GraphNode, dy: tf.Tensor, channelSum: boolean): tf.Tensor[] {
  const layer = node.outboundLayer;
  const cls = layer.getClassName();
  const k = dy.shape[0];
  const outId = node.outputTensors[0].id;
  const inId = node.inputTensors[0].id;
  const relu = reluOrLinear(layer) === 'relu';
  const g = relu ? guidedThroughRelu(dy, rec.kept.get(outId)!) : dy;
  switch (cls) {
    case 'ReLU':
    case 'Activation':
    case 'Dropout':
      return [relu ? g : tf.clone(dy)];
    case 'Conv2D': {
      const c = layer.getConfig() as unknown as ConvConfig;
      const kernel = (layer as unknown as { kernel: { read(): tf.Tensor4D } }).kernel.read();
      const inShape = rec.shapes.get(inId)!;
      if (channelSum && inId === rec.inputId) {
        // Σ_c ∂y/∂x_c is the input gradient of a one-channel image through Σ_c W (see guidedChannelSum)
        const summed = tf.sum(kernel, 2, true) as tf.Tensor4D;
        return [tf.conv2dTranspose(g as tf.Tensor4D, summed, [k, inShape[1], inShape[2], 1], c.strides, c.padding)];
      }
      return [tf.conv2dTranspose(g as tf.Tensor4D, kernel, [k, inShape[1], inShape[2], inShape[3]], c.strides, c.padding)];
    }
    case 'BatchNormalization': {
      const s = batchNormScale(layer, dy.rank);
      if (!s) throw new Error(`guided backward: ${layer.name} is not a last-axis BatchNormalization`);
      return [tf.mul(dy, s.scale)];
    }
    case 'MaxPooling2D': {
      const c = layer.getConfig() as unknown as { poolSize: [number, number]; strides: [number, number]; padding: 'same' | 'valid' };
      const x = tiled(inId === rec.inputId ? rec.input : rec.kept.get(inId)!, k);
      const y = tiled(rec.kept.get(outId)!, k);
      return [tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: c.poolSize, strides: c.strides, pad: c.padding }) as tf.Tensor];
    }
    case 'Add':
      return node.inputTensors.map(() => tf.clone(dy));
    case 'ZeroPadding2D': {
      const pad = (layer.getConfig() as { padding: [[number, number], [number, number]] }).padding;
      const inShape = rec.shapes.get(inId)!;
      return [tf.slice(dy, [0, pad[0][0], pad[1][0], 0], [k, inShape[1], inShape[2], inShape[3]])];
    }
    default:
      throw new Error(`guided backward: no rule for ${cls}`);
  }
}

/**
 * The guided-backprop gradient of the input for each row of `seeds` (∂ target / ∂ A through the head, one row per
 * target), by the hand-written backward of the record. With `channelSum` (requires
 * {@link FeaturesRecord.channelSumAvailable}) returns Σ over colour channels, [k, s, s, 1]; else [k, s, s, c].
 * Every intermediate gradient is released as soon as it has been used; `seeds` is not disposed.
 */
export function guidedBackwardFromRecord(record: FeaturesRecord, seeds: tf.Tensor4D, channelSum = false): tf.Tensor4D {
  const rec = record as Recorded;
  if (!(rec instanceof Recorded) || rec.disposed) throw new Error('guidedBackwardFromRecord: the record was disposed (or is not from recordFeatures)');
  if (channelSum && !rec.channelSumAvailable) throw new Error('guidedBackwardFromRecord: the model input is not read by one Conv2D only');
  const k = seeds.shape[0];
  const grads = new Map<number, tf.Tensor>([[rec.outputId, tf.clone(seeds)]]);
  const add = (id: number, t: tf.Tensor) => {
    const old = grads.get(id);
    if (!old) grads.set(id, t);
    else {
      grads.set(id, tf.add(old, t));
      tf.dispose([old, t]);
    }
  };
  try {
    for (let i = rec.nodes.length - 1; i >= 0; i--) {
      const node = rec.nodes[i];
      const outId = node.outputTensors[0].id;
      const dy = grads.get(outId);
      if (!dy) continue;
      grads.delete(outId);
      const dxs = tf.tidy(() => nodeBackward(rec, node, dy, channelSum));
      dy.dispose();
      node.inputTensors.forEach((t, j) => add(t.id, dxs[j]));
    }
    const dx = grads.get(rec.inputId);
    grads.delete(rec.inputId);
    const [, h, w, c] = rec.input.shape;
    return (dx ?? tf.zeros([k, h, w, channelSum ? 1 : c])) as tf.Tensor4D;
  } finally {
    tf.dispose([...grads.values()]);
  }
}

/**
 * The seeds of {@link guidedBackwardFromRecord}: for each target, the guided gradient of its score with
 * respect to the features' output A, through `head` (A -> logits) with the guided ReLU. [targets, …A's shape].
 * That is guided backprop of the head alone, with A as its input.
 * @param z the head's first-convolution output for `a` from explain/headForwardKeepingZ, when the caller has it (not
 *   disposed): the seeds then come from its recorded tail, without a forward pass through the head
 */
export function guidedHeadSeeds(head: tf.LayersModel, a: tf.Tensor4D, targets: readonly ExplainTarget[], z?: tf.Tensor4D): tf.Tensor4D {
  // the analysis' own head forward (headForwardKeepingZ) recorded the tail: no forward through the head here
  return (z ? guidedSeedsFromZ(head, a, targets, z) : null) ?? guidedBackprop(head, a, targets);
}

/** Options of {@link guidedSaliencyRecorded}. */
export interface RecordedSaliencyOptions {
  /** targets per backward pass (default: all in one batch; each row costs one layer-sized gradient per layer). */
  labelsPerPass?: number;
  /** the head's first-convolution output for the record's output, from explain/headForwardKeepingZ (see guidedHeadSeeds) */
  z?: tf.Tensor4D;
}

/**
 * Eq. 3's fine factor for each target from a recorded forward: what guidedSaliencyMaps() returns for the whole
 * net (same numbers to float rounding), without another forward pass. Signed (lesion-contrast) maps go through
 * the one-channel first-layer gradient when the model allows it.
 * @param head A -> logits (FundusModel.head) of the model whose features were recorded
 * @param contrast one entry per target, or omitted for the unsigned map (see guidedSaliency)
 * @returns [targets, s, s], each map divided by its peak
 */
export function guidedSaliencyRecorded(
  record: FeaturesRecord,
  head: tf.LayersModel,
  targets: readonly ExplainTarget[],
  contrast?: readonly (LesionContrast | null)[],
  o: RecordedSaliencyOptions = {},
): tf.Tensor3D {
  if (contrast && contrast.length !== targets.length) throw new RangeError(`guidedSaliencyRecorded: ${contrast.length} contrasts for ${targets.length} targets`);
  const sumsOnly = !!contrast && contrast.length > 0 && contrast.every((c) => c !== null) && record.channelSumAvailable;
  const [, s1, s2] = (record as Recorded).input.shape;
  if (targets.length === 0) return tf.zeros([0, s1, s2]);
  const per = Math.max(1, Math.floor(o.labelsPerPass ?? targets.length));
  const parts: tf.Tensor4D[] = [];
  try {
    for (let start = 0; start < targets.length; start += per) {
      const group = targets.slice(start, start + per);
      const seeds = guidedHeadSeeds(head, record.output, group, o.z);
      try {
        parts.push(guidedBackwardFromRecord(record, seeds, sumsOnly));
      } finally {
        seeds.dispose();
      }
    }
    return tf.tidy(() => {
      const grads = parts.length === 1 ? parts[0] : (tf.concat(parts) as tf.Tensor4D);
      if (sumsOnly) return saliencyFromChannelSums(tf.squeeze(grads, [3]) as tf.Tensor3D, contrast!);
      return guidedSaliency(grads, contrast);
    });
  } finally {
    tf.dispose(parts);
  }
}
