/**
 * FundusModel: a LayersModel (input → logits) bound to its metadata, split at the Grad-CAM
 * layer into `features` (input → A) and `head` (A → logits) that SHARE the net's weights.
 * Grad-CAM (paper eq. 1–2) then needs one forward of the features and cheap backward passes
 * through the head only.
 */
import * as tf from '@tensorflow/tfjs';
import { FundusLensError } from '../errors';
import type { ModelMetadata } from '../types';
import { buildPrefix, buildTail, findNode, modelNodes, prepareBatchNorm, releaseBatchNorm } from './graph';

/** A loaded model ready for inference and explanation. Owns its tensors until dispose(). */
export interface FundusModel {
  readonly metadata: ModelMetadata;
  /** input [b, s, s, 3] in 0..1 → logits [b, labels]. */
  readonly net: tf.LayersModel;
  /** input → A, the output of `metadata.gradCamLayer`. */
  readonly features: tf.LayersModel;
  /** A → logits. */
  readonly head: tf.LayersModel;
  /** pre-sigmoid scores, [b, labels]. */
  logits(x: tf.Tensor4D): tf.Tensor2D;
  /** sigmoid(logits), [b, labels]. */
  probabilities(x: tf.Tensor4D): tf.Tensor2D;
  /** one forward on zeros so kernels/shaders compile at load rather than on the first photo. */
  warmup(): Promise<void>;
  dispose(): void;
}

class FundusModelImpl implements FundusModel {
  private disposed = false;
  constructor(
    readonly metadata: ModelMetadata,
    readonly net: tf.LayersModel,
    readonly features: tf.LayersModel,
    readonly head: tf.LayersModel,
  ) {}

  private check(x: tf.Tensor4D): void {
    if (this.disposed) throw new Error(`model ${this.metadata.name} was disposed`);
    const s = this.metadata.inputSize;
    if (x.rank !== 4 || x.shape[1] !== s || x.shape[2] !== s || x.shape[3] !== 3) {
      throw new RangeError(`model ${this.metadata.name} expects [batch, ${s}, ${s}, 3], got [${x.shape.join(', ')}]`);
    }
  }

  logits(x: tf.Tensor4D): tf.Tensor2D {
    this.check(x);
    return tf.tidy(() => this.net.apply(x, { training: false }) as tf.Tensor2D);
  }

  probabilities(x: tf.Tensor4D): tf.Tensor2D {
    this.check(x);
    return tf.tidy(() => tf.sigmoid(this.net.apply(x, { training: false }) as tf.Tensor2D));
  }

  async warmup(): Promise<void> {
    const s = this.metadata.inputSize;
    const y = tf.tidy(() => this.logits(tf.zeros([1, s, s, 3])));
    try {
      await y.data();
    } finally {
      y.dispose();
    }
    // the explanation passes' BatchNorm scale/shift, computed once here instead of on every guided-backprop pass
    prepareBatchNorm(this.net);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    releaseBatchNorm(this.net);
    // Layer weights are reference-counted per symbolic application: the backbone layers were
    // applied once (net; `features` reuses net's tensors), the head layers twice (net, head).
    // Disposing net then head releases every variable exactly once; features owns nothing.
    this.net.dispose();
    this.head.dispose();
  }
}

/**
 * Returns a model whose output is the pre-sigmoid score. Our builders already end in logits;
 * a Keras model converted as the paper built it ends in a sigmoid (an Activation layer or the
 * last Dense/Conv2D's activation), and using it as-is would apply the sigmoid twice and hand
 * Grad-CAM saturated scores. The last layer is replaced by its linear twin (weights copied).
 */
function toLogitsNet(net: tf.LayersModel): tf.LayersModel {
  const nodes = modelNodes(net);
  const last = nodes[nodes.length - 1];
  if (!last || net.outputs.length !== 1 || last.outputTensors[0] !== net.outputs[0]) return net;
  const layer = last.outboundLayer;
  const cfg = layer.getConfig();
  if (cfg.activation !== 'sigmoid') return net;
  const g = net as unknown as { inputs: tf.SymbolicTensor[] };
  if (layer.getClassName() === 'Activation') {
    return tf.model({ inputs: g.inputs, outputs: last.inputTensors[0], name: `${net.name}_logits` });
  }
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[layer.getClassName()];
  if (!entry) return net;
  const [cls, fromConfig] = entry;
  const linear = fromConfig(cls, { ...cfg, activation: 'linear', name: `${layer.name}_logits` } as tf.serialization.ConfigDict) as tf.layers.Layer;
  const out = linear.apply(last.inputTensors.length === 1 ? last.inputTensors[0] : last.inputTensors) as tf.SymbolicTensor;
  linear.setWeights(layer.getWeights());
  layer.dispose(); // its weights were copied; nothing else uses them
  return tf.model({ inputs: g.inputs, outputs: out, name: `${net.name}_logits` });
}

/**
 * Binds `net` to `metadata`. A final sigmoid is removed (see toLogitsNet) so `net` outputs logits. Throws FundusLensError 'model-unknown-layer' when
 * `metadata.gradCamLayer` is not a layer of `net` (or the head reads tensors from before it)
 * and 'model-label-mismatch' when the number of labels ≠ the number of model outputs.
 * Takes ownership of `net` (FundusModel.dispose disposes it).
 */
export function wrapModel(net: tf.LayersModel, metadata: ModelMetadata): FundusModel {
  if (net.outputs.length === 1) net = toLogitsNet(net);
  if (net.outputs.length !== 1) {
    throw new FundusLensError('model-label-mismatch', `The model has ${net.outputs.length} outputs; FundusLens expects one logits output.`);
  }
  const outShape = net.outputs[0].shape;
  const nOut = outShape[outShape.length - 1];
  if (outShape.length !== 2 || nOut !== metadata.labels.length) {
    throw new FundusLensError(
      'model-label-mismatch',
      `The model gives ${outShape.length === 2 ? nOut : `output of shape [${outShape.join(', ')}]`} outputs but metadata.json lists ` +
        `${metadata.labels.length} labels.`,
      'metadata.json',
    );
  }
  const inShape = net.inputs[0]?.shape;
  if (net.inputs.length !== 1 || inShape[1] !== metadata.inputSize || inShape[2] !== metadata.inputSize || inShape[3] !== 3) {
    throw new FundusLensError(
      'model-bad-metadata',
      `metadata.json says inputSize ${metadata.inputSize} but the model input is [${inShape?.join(', ')}].`,
      'metadata.json',
    );
  }
  if (!findNode(net, metadata.gradCamLayer)) {
    throw new FundusLensError(
      'model-unknown-layer',
      `metadata.json names Grad-CAM layer "${metadata.gradCamLayer}", which is not a layer of the model.`,
      'metadata.json',
    );
  }
  const features = buildPrefix(net, metadata.gradCamLayer, `${net.name}_features`);
  const head = buildTail(net, metadata.gradCamLayer, `${net.name}_head`);
  return new FundusModelImpl(metadata, net, features, head);
}
