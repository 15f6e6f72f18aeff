/**
 * Batch-norm folding for inference: a BatchNormalization that reads a linear Conv2D (and nothing else reads that
 * convolution) is an affine map per output channel, so it folds into the convolution's kernel and bias:
 *   W' = W · s,  b' = b · s + t,  with s = γ / √(σ² + ε) and t = β − μ · s
 * (Ioffe & Szegedy 2015 give the inference form; every inference runtime applies this rewrite).
 *
 * Why here: on tfjs' wasm backend the separate FusedBatchNorm kernels were 11.5 of the demo model's 38 ms forward
 * pass (12 layers, `.scratch`-style kernel profile), and on WebGL/WebGPU each is one more full-size pass. The fold is
 * done on the bundle's artifacts (topology JSON + weights) before tfjs builds the model, so the model is built once
 * and no layer is shared or half-replaced. Training never folds: it needs the BN layers (loadBundle's default).
 */
import * as tf from '@tensorflow/tfjs';

/** A Keras layer entry of model.json's topology (the fields read here). */
interface LayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown[][][];
}
interface TopologyJson {
  class_name: string;
  config: { name?: string; layers: LayerJson[]; input_layers: unknown[][]; output_layers: unknown[][] };
}

/** What {@link foldBatchNormArtifacts} returns. */
export interface FoldedArtifacts {
  modelTopology: object;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: ArrayBuffer;
  /** the BatchNormalization layers that were folded away, by name */
  folded: string[];
  /** the ReLU layers that became their convolution's activation, by name */
  fusedRelus: string[];
}

function isPlainRelu(l: LayerJson): boolean {
  const c = l.config;
  if (l.class_name === 'Activation') return c.activation === 'relu';
  // tfjs' ReLU has max_value; Keras' also negative_slope and threshold
  return l.class_name === 'ReLU' && c.max_value == null && (c.negative_slope ?? 0) === 0 && (c.threshold ?? 0) === 0;
}

/** How many inbound references (and model outputs) read each layer. */
function readCounts(layers: LayerJson[], outputs: unknown[][]): Map<string, number> {
  const reads = new Map<string, number>();
  const count = (name: unknown) => typeof name === 'string' && reads.set(name, (reads.get(name) ?? 0) + 1);
  for (const l of layers) for (const node of l.inbound_nodes) for (const ref of node) count((ref as unknown[])[0]);
  for (const ref of outputs) count(ref[0]);
  return reads;
}

/**
 * Removes the layers that are keys of `into` (each has one input, the layer it maps to), re-points what read them at
 * that layer, and merges `patch` into the config of every layer that absorbed one.
 */
function absorb(layers: LayerJson[], outputs: unknown[][], into: Map<string, string>, patch: Record<string, unknown>): { layers: LayerJson[]; outputs: unknown[][] } {
  const rename = (ref: unknown[]) => (typeof ref[0] === 'string' && into.has(ref[0]) ? [into.get(ref[0]), ...ref.slice(1)] : ref);
  const absorbers = new Set(into.values());
  return {
    layers: layers
      .filter((l) => !into.has(l.name))
      .map((l) => ({
        ...l,
        config: absorbers.has(l.name) ? { ...l.config, ...patch } : l.config,
        inbound_nodes: l.inbound_nodes.map((node) => node.map((ref) => rename(ref as unknown[]))),
      })),
    outputs: outputs.map(rename),
  };
}

/**
 * The layer `l` reads when it is a linear Conv2D with one inbound node, read by `l` alone, and neither it nor `l` is
 * in `keep`: the convolutions a following BN or ReLU may be folded into.
 */
function foldableConv(l: LayerJson, byName: Map<string, LayerJson>, reads: Map<string, number>, keep: readonly string[]): LayerJson | null {
  if (keep.includes(l.name)) return null;
  const convName = singleInbound(l);
  const conv = convName ? byName.get(convName) : undefined;
  if (!conv || conv.class_name !== 'Conv2D' || keep.includes(conv.name) || reads.get(conv.name) !== 1) return null;
  if (conv.inbound_nodes.length !== 1 || (conv.config.activation ?? 'linear') !== 'linear') return null;
  return conv;
}

/** The ReLU fusion of {@link foldBatchNormArtifacts} on a layer list (BN already folded). */
function fuseRelus(layers: LayerJson[], outputs: unknown[][], keep: readonly string[]): { layers: LayerJson[]; outputs: unknown[][]; fused: string[] } {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const reads = readCounts(layers, outputs);
  const into = new Map<string, string>(); // ReLU name -> conv name
  for (const r of layers) {
    const conv = isPlainRelu(r) ? foldableConv(r, byName, reads, keep) : null;
    const source = conv ? singleInbound(conv) : null;
    if (conv && source !== null && !keep.includes(source)) into.set(r.name, conv.name);
  }
  return { ...absorb(layers, outputs, into, { activation: 'relu' }), fused: [...into.keys()] };
}

function isTopology(t: unknown): t is TopologyJson {
  const c = (t as { config?: { layers?: unknown } } | null)?.config;
  return !!c && Array.isArray(c.layers);
}

/** `[[name, nodeIndex, tensorIndex, kwargs]]` references to the single output of `name`, or null for anything else. */
function singleInbound(l: LayerJson): string | null {
  if (l.inbound_nodes.length !== 1 || l.inbound_nodes[0].length !== 1) return null;
  const ref = l.inbound_nodes[0][0] as unknown[];
  return ref[1] === 0 && ref[2] === 0 && typeof ref[0] === 'string' ? ref[0] : null;
}

/**
 * Folds BatchNormalization into the Conv2D before it, on a bundle's artifacts, then fuses a ReLU that follows a
 * (possibly just folded) linear Conv2D into that convolution's activation.
 *
 * A BN pair is folded only when the convolution is linear, has one inbound node and is read by the BN alone, the BN
 * normalises the last axis, and neither layer is named in `keep` (e.g. the Grad-CAM layer, whose output must stay
 * what it was). A ReLU (a plain `ReLU` layer or `Activation('relu')`) is fused under the same conditions, and not
 * into a convolution that reads a layer named in `keep`: that is the head's first convolution, whose linear output
 * the exact Grad-CAM weights differentiate (explain/grad-cam-fast.ts). Why fuse: tfjs then applies the ReLU inside
 * the convolution's kernel (FusedConv2D), one kernel fewer per pair; on a GPU every kernel is a dispatch, and the
 * forward passes there are dispatch-bound (bench/README.md, "Real GPU"). The values are the same to the bit: the
 * same max(0, ·) of the same sums. Guided backprop and the tail pass treat a conv's own ReLU like a ReLU layer.
 * Everything else is passed through unchanged. Returns null when there is nothing to fold or fuse.
 * @param weights the bundle's weights as stored (manifest entries + bytes: what loadBundle has; plain float32 ones
 *   are folded without making a tensor), or decoded (tf.io.decodeWeights; not disposed). Same bits either way.
 */
export async function foldBatchNormArtifacts(modelTopology: unknown, weights: tf.NamedTensorMap | RawWeights, keep: readonly string[] = []): Promise<FoldedArtifacts | null> {
  if (!isTopology(modelTopology)) return null;
  const raw = isRaw(weights) ? weights : null;
  const names = new Set(raw ? raw.specs.map((e) => e.name) : Object.keys(weights));
  const layers = modelTopology.config.layers;
  const byName = new Map(layers.map((l) => [l.name, l]));
  const reads = readCounts(layers, modelTopology.config.output_layers);

  const pairs = new Map<string, string>(); // BN name -> conv name
  for (const bn of layers) {
    const conv = bn.class_name === 'BatchNormalization' ? foldableConv(bn, byName, reads, keep) : null;
    if (!conv) continue;
    if (conv.config.data_format !== undefined && conv.config.data_format !== 'channels_last') continue;
    const axis = bn.config.axis;
    if (axis !== -1 && axis !== 3 && !(Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3))) continue;
    if (!names.has(`${conv.name}/kernel`) || !names.has(`${bn.name}/moving_mean`) || !names.has(`${bn.name}/moving_variance`)) continue;
    pairs.set(bn.name, conv.name);
  }

  const folded = absorb(layers, modelTopology.config.output_layers, pairs, { use_bias: true });
  const fused = fuseRelus(folded.layers, folded.outputs, keep);
  if (pairs.size === 0 && fused.fused.length === 0) return null;
  const topology = {
    ...modelTopology,
    config: { ...modelTopology.config, layers: fused.layers, output_layers: fused.outputs },
  };

  if (raw) {
    const plain = plainFloat32(raw);
    if (plain) return foldRaw(plain, topology, pairs, byName, fused.fused);
    // quantised bundles (float16, uint8): tfjs' own decoder dequantises them; then as a decoded map
    const decoded = tf.io.decodeWeights(raw.data, raw.specs);
    try {
      return await foldBatchNormArtifactsDecoded(topology, decoded, pairs, byName, fused.fused);
    } finally {
      tf.dispose(Object.values(decoded));
    }
  }
  return foldBatchNormArtifactsDecoded(topology, weights as tf.NamedTensorMap, pairs, byName, fused.fused);
}

/** A bundle's weights as stored: the manifest entries and the bytes they index, in order. */
export interface RawWeights {
  specs: tf.io.WeightsManifestEntry[];
  data: ArrayBuffer | ArrayBuffer[];
}

// weight names are paths like "conv1/kernel": a decoded map never has a "specs" array
function isRaw(w: tf.NamedTensorMap | RawWeights): w is RawWeights {
  return Array.isArray((w as RawWeights).specs) && (w as RawWeights).data !== undefined;
}

/** Entry name → its float32 values (views of the bytes), or null when an entry is not plain float32 (quantised, int, string). */
function plainFloat32(w: RawWeights): { views: Map<string, { values: Float32Array; shape: number[] }>; order: string[] } | null {
  const bytes = new Uint8Array(Array.isArray(w.data) ? (w.data.length === 1 ? w.data[0] : tf.io.CompositeArrayBuffer.join(w.data)) : w.data);
  const views = new Map<string, { values: Float32Array; shape: number[] }>();
  const order: string[] = [];
  let offset = 0;
  for (const spec of w.specs) {
    if (spec.dtype !== 'float32' || spec.quantization) return null;
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (offset + n * 4 > bytes.length) return null; // short data: the regular load reports it
    // a copy only when the entry is not 4-byte aligned (never in files tfjs writes: float32 entries only)
    const values = offset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset + offset, n) : new Float32Array(bytes.slice(offset, offset + n * 4).buffer);
    views.set(spec.name, { values, shape: spec.shape });
    order.push(spec.name);
    offset += n * 4;
  }
  return { views, order };
}

/**
 * W' = W · s, b' = b · s + t for one BN/conv pair, in place on `kernel` ([kh, kw, ci, co]) and `bias` ([co]).
 * One function for both paths, so a raw and a decoded fold give the same bits.
 */
function foldPair(kernel: Float32Array, bias: Float32Array, gamma: Float32Array | undefined, beta: Float32Array | undefined, mean: Float32Array, variance: Float32Array, eps: number): void {
  const co = mean.length;
  const s = new Float32Array(co);
  for (let c = 0; c < co; c++) {
    s[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + eps);
    bias[c] = bias[c] * s[c] + (beta ? beta[c] : 0) - mean[c] * s[c];
  }
  // kernel is [kh, kw, ci, co]: the output channel is the fastest axis
  for (let i = 0; i < kernel.length; i += co) for (let c = 0; c < co; c++) kernel[i + c] *= s[c];
}

const epsOf = (bn: LayerJson) => (typeof bn.config.epsilon === 'number' ? bn.config.epsilon : 1e-3);
const BN_WEIGHTS = ['gamma', 'beta', 'moving_mean', 'moving_variance'];

/**
 * The fold on the stored bytes: no tensor is made. Why: loadBundle has the weights as bytes, and on the wasm
 * backend every tensor is a copy into its heap, read back again by encodeWeights; in a fresh worker that was
 * 100-130 ms of the app's model load (decodeWeights 35 ms + fold 60-90 ms, Chromium 156 here), now a few ms.
 */
function foldRaw(
  raw: NonNullable<ReturnType<typeof plainFloat32>>,
  topology: object,
  pairs: Map<string, string>,
  byName: Map<string, LayerJson>,
  fusedRelus: string[],
): FoldedArtifacts | null {
  const { views } = raw;
  const changed = new Map<string, { values: Float32Array; shape: number[] }>();
  const skip = new Set<string>();
  for (const [bnName, convName] of pairs) {
    const bn = byName.get(bnName)!;
    const get = (name: string) => views.get(name)?.values;
    const kernelV = views.get(`${convName}/kernel`)!;
    const mean = get(`${bnName}/moving_mean`)!;
    const co = mean.length;
    const kernel = Float32Array.from(kernelV.values);
    const bias = Float32Array.from(get(`${convName}/bias`) ?? new Float32Array(co));
    if (kernelV.shape[kernelV.shape.length - 1] !== co || bias.length !== co) return null; // the regular load reports the mismatch
    foldPair(kernel, bias, bn.config.scale !== false ? get(`${bnName}/gamma`) : undefined, bn.config.center !== false ? get(`${bnName}/beta`) : undefined, mean, get(`${bnName}/moving_variance`)!, epsOf(bn));
    changed.set(`${convName}/kernel`, { values: kernel, shape: kernelV.shape });
    changed.set(`${convName}/bias`, { values: bias, shape: [co] });
    for (const w of BN_WEIGHTS) skip.add(`${bnName}/${w}`);
  }
  // the same entry order as encodeWeights of the decoded path: the folded pairs first, then the rest as stored
  const names = [...changed.keys(), ...raw.order.filter((n) => !skip.has(n) && !changed.has(n))];
  const entries = names.map((name) => changed.get(name) ?? views.get(name)!);
  const data = new Float32Array(entries.reduce((a, e) => a + e.values.length, 0));
  let at = 0;
  for (const e of entries) {
    data.set(e.values, at);
    at += e.values.length;
  }
  const weightSpecs = names.map((name, i) => ({ name, shape: entries[i].shape, dtype: 'float32' as const }));
  return { modelTopology: topology, weightSpecs, weightData: data.buffer, folded: [...pairs.keys()], fusedRelus };
}

async function foldBatchNormArtifactsDecoded(
  topology: object,
  weights: tf.NamedTensorMap,
  pairs: Map<string, string>,
  byName: Map<string, LayerJson>,
  fusedRelus: string[],
): Promise<FoldedArtifacts | null> {
  // The arithmetic is done on the host in typed arrays, not with tfjs ops: decodeWeights' tensors still hold their
  // values on the host, but an op would upload them and encodeWeights would then read every result back, one GPU
  // round trip per tensor (ResNet50 through Dawn on this machine's llvmpipe: the fold added 0.3 s to a load, now
  // 0.1-0.2 s).
  const out: tf.NamedTensorMap = {};
  const made: tf.Tensor[] = [];
  try {
    const skip = new Set<string>();
    for (const [bnName, convName] of pairs) {
      const bn = byName.get(bnName)!;
      const read = async (name: string) => (weights[name] ? Float32Array.from(await weights[name].data()) : undefined);
      const gamma = bn.config.scale !== false ? await read(`${bnName}/gamma`) : undefined;
      const beta = bn.config.center !== false ? await read(`${bnName}/beta`) : undefined;
      const mean = (await read(`${bnName}/moving_mean`))!;
      const variance = (await read(`${bnName}/moving_variance`))!;
      const kernelT = weights[`${convName}/kernel`];
      const kernel = Float32Array.from(await kernelT.data());
      const bias = (await read(`${convName}/bias`)) ?? new Float32Array(mean.length);
      const co = mean.length;
      if (kernelT.shape[kernelT.rank - 1] !== co || bias.length !== co) throw new Error(`fold: ${convName} and ${bnName} disagree on channels`);
      foldPair(kernel, bias, gamma, beta, mean, variance, epsOf(bn));
      const k = tf.tensor(kernel, kernelT.shape, 'float32');
      const b = tf.tensor1d(bias, 'float32');
      made.push(k, b);
      out[`${convName}/kernel`] = k;
      out[`${convName}/bias`] = b;
      for (const w of BN_WEIGHTS) skip.add(`${bnName}/${w}`);
    }
    for (const [name, t] of Object.entries(weights)) if (!skip.has(name) && !(name in out)) out[name] = t;
    const { data, specs } = await tf.io.encodeWeights(out);
    return { modelTopology: topology, weightSpecs: specs, weightData: data, folded: [...pairs.keys()], fusedRelus };
  } finally {
    tf.dispose(made);
  }
}
