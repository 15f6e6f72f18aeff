/**
 * Layer-by-layer execution of a functional tf.LayersModel, so that explanation methods can
 * swap the ReLU (guided backpropagation, Springenberg et al. 2015) without mutating the
 * shared model, and read intermediate layer outputs.
 *
 * We walk the model's own `nodesByDepth` (exactly what tfjs' Container.runInternalGraph
 * does) rather than `layer.inboundNodes[0]`: once a model is split into features + head the
 * head layers are shared and have several inbound nodes, and only the model's own nodes
 * describe its graph.
 */
import * as tf from '@tensorflow/tfjs';
import { FundusLensError } from '../errors';

/** The parts of tfjs-layers' internal graph we rely on (public fields on Container/Node). */
export interface GraphNode {
  outboundLayer: tf.layers.Layer;
  inputTensors: tf.SymbolicTensor[];
  outputTensors: tf.SymbolicTensor[];
  callArgs?: Record<string, unknown>;
}
interface GraphModel {
  nodesByDepth: Record<string, GraphNode[]>;
  inputs: tf.SymbolicTensor[];
  outputs: tf.SymbolicTensor[];
}

/**
 * What a layer ends in, for the hand-written backward passes (explain/guided-pass, explain/tail-pass): 'relu' (a ReLU
 * layer without a cap, or a relu Activation / Conv2D), 'linear' (no activation, or any layer without one), or null
 * for an activation they have no rule for.
 */
export function reluOrLinear(layer: tf.layers.Layer): 'relu' | 'linear' | null {
  const cls = layer.getClassName();
  const c = layer.getConfig() as { activation?: string; maxValue?: number | null };
  if (cls === 'ReLU') return c.maxValue == null ? 'relu' : null;
  if (cls === 'Activation' || cls === 'Conv2D') return c.activation === 'relu' || c.activation === 'linear' ? c.activation : null;
  return 'linear';
}

/** The model's nodes in execution order (deepest first), input layers excluded. */
export function modelNodes(net: tf.LayersModel): GraphNode[] {
  const g = net as unknown as GraphModel;
  const depths = Object.keys(g.nodesByDepth)
    .map(Number)
    .sort((a, b) => b - a);
  const out: GraphNode[] = [];
  for (const d of depths) {
    for (const node of g.nodesByDepth[d]) {
      if (node.outboundLayer.getClassName() !== 'InputLayer') out.push(node);
    }
  }
  return out;
}

/** The node of `net` whose layer is called `name`, or null. */
export function findNode(net: tf.LayersModel, name: string): GraphNode | null {
  return modelNodes(net).find((n) => n.outboundLayer.name === name) ?? null;
}

/** How a layer uses ReLU: as the whole layer, fused as its activation, or not at all. */
function reluKind(layer: tf.layers.Layer): 'layer' | 'fused' | null {
  const cls = layer.getClassName();
  const config = layer.getConfig();
  if (cls === 'ReLU') {
    // ReLU(max_value=6) etc. is not a plain ReLU; guided backprop would be wrong there.
    const max = config.maxValue;
    return max == null ? 'layer' : null;
  }
  if (cls === 'Activation') return config.activation === 'relu' ? 'layer' : null;
  return config.activation === 'relu' ? 'fused' : null;
}

/** A stand-in for tfjs-layers' Linear activation (only getClassName/apply are used by layers). */
const LINEAR = {
  getClassName: () => 'linear',
  apply: (x: tf.Tensor) => x,
};

/**
 * Calls `layer` without its fused ReLU. Layers read `this.activation` inside `call`; we swap it
 * for the duration of this synchronous call only and restore it in `finally`, so no other
 * caller can observe the change (JS is single-threaded and `call` does not await).
 */
function callWithoutActivation(layer: tf.layers.Layer, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
  const l = layer as unknown as { activation: unknown };
  const saved = l.activation;
  l.activation = LINEAR;
  try {
    return layer.call(inputs, kwargs);
  } finally {
    l.activation = saved;
  }
}

/** What tfjs-layers keeps on Conv2D / BatchNormalization instances (public JS fields). */
interface Readable {
  read(): tf.Tensor;
}
interface ConvFields {
  kernel: Readable;
  bias: Readable | null;
  strides: number[];
  padding: 'same' | 'valid';
  dilationRate: number[];
  dataFormat: string;
  activation: { getClassName(): string; apply(x: tf.Tensor): tf.Tensor } | null;
}
interface BnFields {
  axis: number;
  epsilon: number;
  gamma?: Readable;
  beta?: Readable;
  movingMean: Readable;
  movingVariance: Readable;
}

/**
 * Runs Conv2D and inference-mode BatchNormalization with plain ops instead of the layer's own
 * call, because the gradients differ in cost, not in value: tfjs-layers uses the fused conv,
 * whose gradient always computes the FILTER gradient too (wasted when explaining an image), and
 * BatchNormalization's gradient tiles 1/σ to the full activation shape (slow on wasm). With
 * tf.conv2d the filter gradient is computed only when asked for, and inference BN is just the
 * affine map x·γ/σ + (β − μ·γ/σ). Returns null for anything else (the layer's call is used).
 */
function directCall(
  layer: tf.layers.Layer,
  x: tf.Tensor,
  kwargs: Record<string, unknown>,
): { pre: tf.Tensor; activation: ((t: tf.Tensor) => tf.Tensor) | null } | null {
  const cls = layer.getClassName();
  if (cls === 'Conv2D' && x.rank === 4) {
    const c = layer as unknown as ConvFields;
    if (c.dataFormat !== 'channelsLast' || (c.padding !== 'same' && c.padding !== 'valid')) return null;
    let y: tf.Tensor = tf.conv2d(x as tf.Tensor4D, c.kernel.read() as tf.Tensor4D, c.strides as [number, number], c.padding, 'NHWC', c.dilationRate as [number, number]);
    if (c.bias) y = tf.add(y, c.bias.read());
    const act = c.activation && c.activation.getClassName().toLowerCase() !== 'linear' ? c.activation : null;
    return { pre: y, activation: act ? (t) => act.apply(t) : null };
  }
  if (cls === 'BatchNormalization' && kwargs.training !== true) {
    const b = layer as unknown as BnFields;
    if (b.axis !== -1 && b.axis !== x.rank - 1) return null;
    const folded = foldedBn(b);
    if (folded) return { pre: tf.add(tf.mul(x, folded.scale), folded.shift), activation: null };
    const [scale, shift] = bnAffine(b);
    return { pre: tf.add(tf.mul(x, scale), shift), activation: null };
  }
  return null;
}

/**
 * Inference BatchNormalization as a per-channel affine map, scale = γ/√(σ² + ε) and shift = β − μ·scale, computed
 * once by {@link prepareBatchNorm}. Why: computed from the weights on every pass it is 6 extra kernels per layer
 * (rsqrt, add, mul, mul, neg, add): in a ResNet50 guided-backprop pass 795 of its 1972 kernels, and on WebGPU every
 * kernel is a dispatch from JS (bench/README.md "Real GPU"). The two vectors stay on the backend (uploading them
 * per pass instead was slower on an H100 than the kernels it saved) until {@link releaseBatchNorm}, which
 * FundusModel.dispose() calls. Each entry remembers the weights' dataIds: a weight that was reassigned (training)
 * has a new dataId, and the entry is then ignored until prepared again.
 */
interface FoldedBn {
  ids: unknown[];
  scale: tf.Tensor1D;
  shift: tf.Tensor1D;
}
const FOLDED = new WeakMap<object, FoldedBn>();

/** scale = γ/√(σ² + ε), shift = β − μ·scale of an inference BatchNormalization (the caller disposes them). */
function bnAffine(b: BnFields): [tf.Tensor1D, tf.Tensor1D] {
  const inv = tf.rsqrt(tf.add(b.movingVariance.read(), b.epsilon));
  const scale = b.gamma ? tf.mul(inv, b.gamma.read()) : inv;
  let shift = tf.neg(tf.mul(b.movingMean.read(), scale));
  if (b.beta) shift = tf.add(shift, b.beta.read());
  return [scale as tf.Tensor1D, shift as tf.Tensor1D];
}

function bnWeights(b: BnFields): tf.Tensor[] {
  return [b.movingMean.read(), b.movingVariance.read(), ...(b.gamma ? [b.gamma.read()] : []), ...(b.beta ? [b.beta.read()] : [])];
}

function foldedBn(b: BnFields): FoldedBn | null {
  const f = FOLDED.get(b);
  if (!f || f.scale.isDisposed) return null;
  const w = bnWeights(b);
  return w.length === f.ids.length && w.every((t, i) => t.dataId === f.ids[i]) ? f : null;
}

/**
 * Computes every inference BatchNormalization of `net` into a scale and a shift vector that {@link applyLayers}
 * then uses (see FoldedBn): 2 tensors per layer, kept until {@link releaseBatchNorm}. Call it after loading (the
 * model's warmup() does) and again after the weights change; without it applyLayers computes the same map on every
 * call. The values are those of that computation (same ops, tested).
 * @returns the number of layers prepared (0 when all were already current)
 */
export function prepareBatchNorm(net: tf.LayersModel): number {
  let n = 0;
  for (const layer of net.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const b = layer as unknown as BnFields;
    if (foldedBn(b)) continue;
    const old = FOLDED.get(b);
    if (old) tf.dispose([old.scale, old.shift]);
    const w = bnWeights(b);
    // kept: a caller's tf.tidy around this call must not dispose them
    const [scale, shift] = tf.tidy(() => bnAffine(b)).map((t) => tf.keep(t));
    FOLDED.set(b, { ids: w.map((t) => t.dataId), scale, shift });
    n++;
  }
  return n;
}

/**
 * The per-channel scale γ/√(σ² + ε) of an inference BatchNormalization over the last axis, the whole of its
 * input gradient; null for another axis. The prepared vector when {@link prepareBatchNorm} ran (`owned`
 * false), else a new one the caller disposes (`owned` true).
 */
export function batchNormScale(layer: tf.layers.Layer, rank: number): { scale: tf.Tensor1D; owned: boolean } | null {
  const b = layer as unknown as BnFields;
  if (b.axis !== -1 && b.axis !== rank - 1) return null;
  const folded = foldedBn(b);
  if (folded) return { scale: folded.scale, owned: false };
  const [scale, shift] = bnAffine(b);
  shift.dispose();
  return { scale, owned: true };
}

/** Disposes what {@link prepareBatchNorm} kept for `net` (safe to call twice or without a prepare). */
export function releaseBatchNorm(net: tf.LayersModel): void {
  for (const layer of net.layers) {
    const f = FOLDED.get(layer);
    if (!f) continue;
    tf.dispose([f.scale, f.shift]);
    FOLDED.delete(layer);
  }
}

/** Options of {@link applyLayers}. */
export interface ApplyLayersOptions {
  /** replaces every ReLU (ReLU layers, Activation('relu'), and layers with activation 'relu'). */
  reluOverride?: (x: tf.Tensor) => tf.Tensor;
  /** layer names whose outputs to return, in this order (default: the model's outputs). */
  outputs?: string[];
  /** passed to every layer (BatchNormalization uses batch statistics and updates its moving ones). */
  training?: boolean;
  /** computes a layer's output instead of the layer (return null to let the layer run): e.g. a custom gradient for one layer. */
  layerOverride?: (layer: tf.layers.Layer, x: tf.Tensor | tf.Tensor[]) => tf.Tensor | null;
}

/** The layers that read the model's (single) input directly. */
export function inputConsumers(net: tf.LayersModel): tf.layers.Layer[] {
  const g = net as unknown as GraphModel;
  if (g.inputs.length !== 1) return [];
  const id = g.inputs[0].id;
  return modelNodes(net)
    .filter((n) => n.inputTensors.some((t) => t.id === id))
    .map((n) => n.outboundLayer);
}

/**
 * Runs `net` on concrete `input` layer by layer and returns the requested outputs.
 *
 * Values equal the model's own forward (to float rounding); Conv2D and inference-mode
 * BatchNormalization are computed with plain ops so that gradients through them are cheaper
 * (see directCall). Intermediate tensors not returned are NOT disposed here: call inside `tf.tidy` (or
 * `tf.grad`, which needs them anyway). Throws FundusLensError('model-unknown-layer') when an
 * requested output name is not a layer of `net`.
 */
export function applyLayers(net: tf.LayersModel, input: tf.Tensor | tf.Tensor[], o: ApplyLayersOptions = {}): tf.Tensor[] {
  const g = net as unknown as GraphModel;
  const inputs = Array.isArray(input) ? input : [input];
  if (inputs.length !== g.inputs.length) {
    throw new RangeError(`model ${net.name} has ${g.inputs.length} inputs, got ${inputs.length}`);
  }
  const nodes = modelNodes(net);
  const wanted: tf.SymbolicTensor[] = o.outputs
    ? o.outputs.map((name) => {
        const fromInput = g.inputs.find((t) => t.sourceLayer.name === name);
        if (fromInput) return fromInput;
        const node = nodes.find((n) => n.outboundLayer.name === name);
        if (!node) throw new FundusLensError('model-unknown-layer', `The model has no layer named "${name}".`);
        return node.outputTensors[0];
      })
    : g.outputs;
  const values = new Map<number, tf.Tensor>();
  g.inputs.forEach((t, i) => values.set(t.id, inputs[i]));
  const override = o.reluOverride;
  for (const node of nodes) {
    const args = node.inputTensors.map((t) => values.get(t.id));
    if (args.some((a) => a === undefined)) continue; // not reachable from the inputs
    const layer = node.outboundLayer;
    const x = args.length === 1 ? (args[0] as tf.Tensor) : (args as tf.Tensor[]);
    const kwargs: Record<string, unknown> = { ...(node.callArgs ?? {}) };
    if (o.training !== undefined) kwargs.training = o.training;
    const kind = override ? reluKind(layer) : null;
    let out: tf.Tensor | tf.Tensor[];
    const replaced = o.layerOverride?.(layer, x) ?? null;
    if (replaced) {
      out = replaced;
    } else if (kind === 'layer') {
      out = override!(x as tf.Tensor);
    } else {
      const direct = Array.isArray(x) ? null : directCall(layer, x, kwargs);
      if (direct) {
        out = kind === 'fused' ? override!(direct.pre) : direct.activation ? direct.activation(direct.pre) : direct.pre;
      } else if (kind === 'fused') {
        out = override!(callWithoutActivation(layer, x, kwargs) as tf.Tensor);
      } else {
        out = layer.call(x, kwargs);
      }
    }
    const outs = Array.isArray(out) ? out : [out];
    node.outputTensors.forEach((t, i) => values.set(t.id, outs[i]));
  }
  return wanted.map((t) => {
    const v = values.get(t.id);
    if (!v) throw new FundusLensError('model-unknown-layer', `Layer output ${t.name} is not computable from the model input.`);
    return v;
  });
}

/**
 * Builds a model `A -> net output` from a new Input shaped like the output of layer `from`,
 * re-applying (sharing, not copying) the layers that follow it. Requires that everything after
 * `from` depends on `from` only (true after the last residual block of our builders and of
 * a Keras ResNet + head).
 */
export function buildTail(net: tf.LayersModel, from: string, name: string): tf.LayersModel {
  const g = net as unknown as GraphModel;
  const start = findNode(net, from);
  if (!start) throw new FundusLensError('model-unknown-layer', `The model has no layer named "${from}".`);
  const a = start.outputTensors[0];
  const input = tf.input({ shape: a.shape.slice(1) as number[], name: `${name}_input` });
  const values = new Map<number, tf.SymbolicTensor>([[a.id, input]]);
  for (const node of modelNodes(net)) {
    if (node === start) continue;
    const args = node.inputTensors.map((t) => values.get(t.id));
    if (args.every((v) => v === undefined)) continue;
    if (args.some((v) => v === undefined)) {
      throw new FundusLensError(
        'model-unknown-layer',
        `Layer "${node.outboundLayer.name}" after "${from}" also reads tensors from before it; choose a later Grad-CAM layer.`,
      );
    }
    const kwargs = { ...(node.callArgs ?? {}) };
    const out = node.outboundLayer.apply(args.length === 1 ? args[0]! : (args as tf.SymbolicTensor[]), kwargs);
    const outs = (Array.isArray(out) ? out : [out]) as tf.SymbolicTensor[];
    node.outputTensors.forEach((t, i) => values.set(t.id, outs[i]));
  }
  const outputs = g.outputs.map((t) => values.get(t.id));
  if (outputs.some((t) => t === undefined)) {
    throw new FundusLensError('model-unknown-layer', `The model output does not depend on layer "${from}".`);
  }
  return tf.model({ inputs: input, outputs: outputs as tf.SymbolicTensor[], name });
}

/** A model `net input -> output of layer `layer`` sharing `net`'s layers. */
export function buildPrefix(net: tf.LayersModel, layer: string, name: string): tf.LayersModel {
  const node = findNode(net, layer);
  if (!node) throw new FundusLensError('model-unknown-layer', `The model has no layer named "${layer}".`);
  const g = net as unknown as GraphModel;
  return tf.model({ inputs: g.inputs, outputs: node.outputTensors[0], name });
}
