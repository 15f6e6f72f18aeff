/**
 * Network builders for the paper's multi-label classifier (Jiang et al., §II.C, Fig. 3):
 * a ResNet backbone without its FC layer, then three convolutional layers forming a
 * fully-convolutional head with one output channel per label, global-average-pooled to
 * one LOGIT per label. The sigmoid is deliberately NOT part of the network: Grad-CAM
 * (paper eq. 1) differentiates the pre-sigmoid score, and training uses the numerically
 * stable sigmoid-cross-entropy-with-logits.
 *
 * Every convolution is a separate Conv2D (no bias, no fused activation) → BatchNormalization
 * → ReLU layer: the form training needs. For inference, loadBundle folds each BN into its
 * convolution and the ReLU into the convolution's activation (fold.ts); `applyLayers`
 * (graph.ts) and guided backprop override a ReLU layer and a convolution's own ReLU alike.
 * Layer names are stable (they are the weight names in a bundle).
 */
import * as tf from '@tensorflow/tfjs';

/** Name of the layer whose output is A^k for Grad-CAM: the last residual block's ReLU. */
export const GRADCAM_LAYER_DEFAULT = 'gradcam_features';
/** Name of the head's last convolution: one map per label, before global average pooling. */
export const HEAD_MAPS_LAYER = 'head_conv3';
/** Name of the output layer (global average pooling of the per-label maps). */
export const LOGITS_LAYER = 'logits';

// Short training runs on a CPU: 0.99 (the tfjs default) would leave the moving statistics
// far from the data after a few hundred steps, and inference would then be off.
const BN_MOMENTUM = 0.9;
// Keras' ResNet50 value; keeps a converted Keras model numerically equivalent.
const BN_EPSILON = 1.001e-5;

/** Options shared by both builders. */
interface CommonOptions {
  /** square input side in pixels; default 512 (paper §II.B). */
  inputSize?: number;
  /** number of outputs (labels); default 5. */
  numLabels?: number;
  /** filters of the head's 3×3 convolution. */
  headWidth?: number;
  /** filters of the head's middle 1×1 convolution. */
  headMid?: number;
  /** base seed for the weight initialisers; each layer gets seed + its index. Default 1. */
  seed?: number;
}

/** Small helper that hands out deterministic initialisers and keeps naming in one place. */
class Builder {
  private n = 0;
  constructor(private readonly seed: number) {}

  private init(): ReturnType<typeof tf.initializers.heNormal> {
    return tf.initializers.heNormal({ seed: this.seed + this.n++ });
  }

  conv(x: tf.SymbolicTensor, name: string, filters: number, kernel: number, stride = 1, bias = false): tf.SymbolicTensor {
    return tf.layers
      .conv2d({
        name,
        filters,
        kernelSize: kernel,
        strides: stride,
        padding: 'same',
        useBias: bias,
        kernelInitializer: this.init(),
      })
      .apply(x) as tf.SymbolicTensor;
  }

  bn(x: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
    return tf.layers.batchNormalization({ name, axis: -1, momentum: BN_MOMENTUM, epsilon: BN_EPSILON }).apply(x) as tf.SymbolicTensor;
  }

  relu(x: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
    return tf.layers.reLU({ name }).apply(x) as tf.SymbolicTensor;
  }

  convBnRelu(x: tf.SymbolicTensor, name: string, filters: number, kernel: number, stride = 1): tf.SymbolicTensor {
    return this.relu(this.bn(this.conv(x, `${name}_conv`, filters, kernel, stride), `${name}_bn`), `${name}_relu`);
  }

  /** The paper's head: 3 convolutions (the last with numLabels filters) → GAP → logits. */
  head(a: tf.SymbolicTensor, numLabels: number, headWidth: number, headMid: number): tf.SymbolicTensor {
    let x = this.conv(a, 'head_conv1', headWidth, 3, 1, true);
    x = this.relu(x, 'head_relu1');
    x = this.conv(x, 'head_conv2', headMid, 1, 1, true);
    x = this.relu(x, 'head_relu2');
    x = this.conv(x, HEAD_MAPS_LAYER, numLabels, 1, 1, true);
    return tf.layers.globalAveragePooling2d({ name: LOGITS_LAYER }).apply(x) as tf.SymbolicTensor;
  }
}

function checkCommon(inputSize: number, numLabels: number): void {
  if (!Number.isInteger(inputSize) || inputSize < 32) throw new RangeError(`inputSize must be an integer ≥ 32, got ${inputSize}`);
  if (!Number.isInteger(numLabels) || numLabels < 1) throw new RangeError(`numLabels must be a positive integer, got ${numLabels}`);
}

/**
 * Bottleneck residual block (ResNet v1.5: the stride sits on the 3×3 convolution, as in
 * torchvision; Keras' v1 puts it on the first 1×1 — a converted Keras model carries its
 * own topology, so this choice only affects models we build and train here).
 */
function bottleneck(b: Builder, x: tf.SymbolicTensor, name: string, width: number, stride: number, last: boolean): tf.SymbolicTensor {
  const outCh = width * 4;
  const inCh = x.shape[x.shape.length - 1] as number;
  let shortcut = x;
  if (stride !== 1 || inCh !== outCh) {
    shortcut = b.bn(b.conv(x, `${name}_0_conv`, outCh, 1, stride), `${name}_0_bn`);
  }
  let y = b.convBnRelu(x, `${name}_1`, width, 1);
  y = b.convBnRelu(y, `${name}_2`, width, 3, stride);
  y = b.bn(b.conv(y, `${name}_3_conv`, outCh, 1), `${name}_3_bn`);
  const sum = tf.layers.add({ name: `${name}_add` }).apply([shortcut, y]) as tf.SymbolicTensor;
  return b.relu(sum, last ? GRADCAM_LAYER_DEFAULT : `${name}_out`);
}

/** Basic (two 3×3 convolutions) residual block, ResNet-18/34 style. */
function basicBlock(b: Builder, x: tf.SymbolicTensor, name: string, width: number, stride: number, last: boolean): tf.SymbolicTensor {
  const inCh = x.shape[x.shape.length - 1] as number;
  let shortcut = x;
  if (stride !== 1 || inCh !== width) {
    shortcut = b.bn(b.conv(x, `${name}_0_conv`, width, 1, stride), `${name}_0_bn`);
  }
  let y = b.convBnRelu(x, `${name}_1`, width, 3, stride);
  y = b.bn(b.conv(y, `${name}_2_conv`, width, 3), `${name}_2_bn`);
  const sum = tf.layers.add({ name: `${name}_add` }).apply([shortcut, y]) as tf.SymbolicTensor;
  return b.relu(sum, last ? GRADCAM_LAYER_DEFAULT : `${name}_out`);
}

/**
 * The paper's network: ResNet50 (bottleneck blocks [3, 4, 6, 3], widths 64…2048, 7×7
 * stride-2 stem + 3×3 stride-2 max-pool) without FC, plus the 3-convolution head.
 * At 512² the Grad-CAM layer is 16×16×2048. Output: logits `[batch, numLabels]`.
 *
 * @param o.headWidth filters of the head's 3×3 conv (default 256); `o.headMid` default 128.
 */
export function buildPaperResNet50(o: CommonOptions = {}): tf.LayersModel {
  const inputSize = o.inputSize ?? 512;
  const numLabels = o.numLabels ?? 5;
  checkCommon(inputSize, numLabels);
  const b = new Builder(o.seed ?? 1);
  const input = tf.input({ shape: [inputSize, inputSize, 3], name: 'image' });
  let x = b.convBnRelu(input, 'stem', 64, 7, 2);
  x = tf.layers.maxPooling2d({ name: 'stem_pool', poolSize: 3, strides: 2, padding: 'same' }).apply(x) as tf.SymbolicTensor;
  const stages: [number, number][] = [
    [64, 3],
    [128, 4],
    [256, 6],
    [512, 3],
  ];
  stages.forEach(([width, count], s) => {
    for (let i = 0; i < count; i++) {
      const stride = i === 0 && s > 0 ? 2 : 1;
      const last = s === stages.length - 1 && i === count - 1;
      x = bottleneck(b, x, `conv${s + 2}_block${i + 1}`, width, stride, last);
    }
  });
  const logits = b.head(x, numLabels, o.headWidth ?? 256, o.headMid ?? 128);
  return tf.model({ inputs: input, outputs: logits, name: 'paper_resnet50' });
}

/** Options of {@link buildCompactResNet}. */
export interface CompactOptions extends CommonOptions {
  /** base width: stages have width, 2·width, 4·width, 8·width filters. Default 16. */
  width?: number;
  /** basic blocks per stage (1–4 stages). Default [1, 1, 1, 1]. */
  blocks?: number[];
}

/**
 * A compact ResNet with the paper's head, cheap enough to train on a 2-core CPU and run
 * in a browser: basic blocks, widths `width·[1,2,4,8]`, 5×5 stride-2 stem + stride-2
 * max-pool. With four stages the Grad-CAM grid is inputSize/32 (16×16 at 512²), as in
 * the paper's ResNet50, so explanations have the same resolution.
 *
 * Head defaults are narrower than the paper's (headWidth 128, headMid 64) to match the
 * narrower backbone; the structure (3×3 conv, ReLU, 1×1, ReLU, 1×1 → GAP) is identical.
 */
export function buildCompactResNet(o: CompactOptions = {}): tf.LayersModel {
  const inputSize = o.inputSize ?? 512;
  const numLabels = o.numLabels ?? 5;
  checkCommon(inputSize, numLabels);
  const width = o.width ?? 16;
  const blocks = o.blocks ?? [1, 1, 1, 1];
  if (!Number.isInteger(width) || width < 1) throw new RangeError(`width must be a positive integer, got ${width}`);
  if (blocks.length < 1 || blocks.length > 4 || blocks.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new RangeError(`blocks must list 1–4 positive integers, got [${blocks.join(', ')}]`);
  }
  const b = new Builder(o.seed ?? 1);
  const input = tf.input({ shape: [inputSize, inputSize, 3], name: 'image' });
  let x = b.convBnRelu(input, 'stem', width, 5, 2);
  x = tf.layers.maxPooling2d({ name: 'stem_pool', poolSize: 3, strides: 2, padding: 'same' }).apply(x) as tf.SymbolicTensor;
  blocks.forEach((count, s) => {
    for (let i = 0; i < count; i++) {
      const stride = i === 0 && s > 0 ? 2 : 1;
      const last = s === blocks.length - 1 && i === count - 1;
      x = basicBlock(b, x, `conv${s + 2}_block${i + 1}`, width * 2 ** s, stride, last);
    }
  });
  const logits = b.head(x, numLabels, o.headWidth ?? 128, o.headMid ?? 64);
  return tf.model({ inputs: input, outputs: logits, name: `compact_resnet_w${width}_b${blocks.join('')}` });
}
