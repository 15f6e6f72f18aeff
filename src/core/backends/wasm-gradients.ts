/**
 * Convolution gradient kernels for tfjs' wasm backend (4.22), which has no
 * Conv2DBackpropFilter at all (so training, guided backprop and Grad-CAM through a conv head
 * fail on wasm) and only a slow Conv2DBackpropInput.
 *
 * Both gradients are rewritten as ordinary forward convolutions and run with wasm's own
 * XNNPACK-backed Conv2D plus Transpose / PadV2 / Slice / Reverse / Reshape kernels. Let the
 * forward be y[b,o,co] = Σ_k Σ_ci xpad[b, o·s + k, ci] · w[k, ci, co] (one spatial axis shown):
 *
 *  - filter gradient: dW[k,ci,co] = Σ_{b,o} xpad[b, o·s + k, ci] · dy[b,o,co] is a stride-1
 *    convolution of xpad (batch ↔ channels swapped) with dy as the filter, dilated by s.
 *  - input gradient, stride 1: dx[i,ci] = Σ_k dy[i + padBefore − k, co] · w[k,ci,co], a "valid"
 *    convolution of dy padded by k−1−padBefore with the spatially flipped filter, in/out
 *    channels swapped; stride > 1: the polyphase form in stridedInputGrad (no zero insertion).
 *
 * Kernels call the other wasm kernels' functions directly (not through the engine), so nothing
 * is recorded on a gradient tape and every intermediate is released with backend.disposeData.
 */
import * as tf from '@tensorflow/tfjs';

type Info = tf.TensorInfo;
type Attrs = Record<string, unknown>;

interface DisposingBackend {
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Runs another registered wasm kernel on TensorInfos, keeping track of what to free. */
class Scope {
  private readonly temps: Info[] = [];
  constructor(private readonly backend: tf.KernelBackend) {}

  run(kernel: string, inputs: Record<string, Info>, attrs: Attrs): Info {
    const cfg = tf.getKernel(kernel, 'wasm');
    if (!cfg) throw new Error(`wasm kernel ${kernel} is not registered (import @tensorflow/tfjs-backend-wasm first)`);
    const out = cfg.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend: this.backend, attrs: attrs as tf.NamedAttrMap }) as Info;
    this.temps.push(out);
    return out;
  }

  /** Frees every intermediate except `keep`. */
  finish(keep: Info): Info {
    for (const t of this.temps) if (t !== keep) (this.backend as unknown as DisposingBackend).disposeData(t.dataId);
    return keep;
  }
}

function convInfo(xShape: number[], filterShape: number[], attrs: Attrs): tf.backend_util.Conv2DInfo {
  const fmt = tf.backend_util.convertConv2DDataFormat((attrs.dataFormat as 'NHWC' | 'NCHW' | undefined) ?? 'NHWC');
  if (fmt !== 'channelsLast') throw new Error(`wasm conv gradients support NHWC only, got ${String(attrs.dataFormat)}`);
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    fmt,
  );
}

/** Pads (possibly negatively, i.e. crops) the spatial axes of an NHWC tensor. */
function padCrop(s: Scope, x: Info, top: number, bottom: number, left: number, right: number): Info {
  const [b, h, w, c] = x.shape;
  let y = x;
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    y = s.run('PadV2', { x: y }, { paddings: [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)], [0, 0]], constantValue: 0 });
  }
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const begin = [0, Math.max(0, -top), Math.max(0, -left), 0];
    const size = [b, h + top + bottom, w + left + right, c];
    y = s.run('Slice', { x: y }, { begin, size });
  }
  return y;
}

/** dW for y = conv2d(x, W): inputs {x, dy}, attrs {strides, pad, dataFormat, dimRoundingMode, filterShape}. */
function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): Info {
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const attrs = (args.attrs ?? {}) as Attrs;
  const filterShape = attrs.filterShape as number[];
  const info = convInfo(x.shape, filterShape, attrs);
  const s = new Scope(args.backend);
  const { top, left } = info.padInfo;
  const [, h, w] = x.shape;
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  // rows/cols of xpad that the forward conv actually read
  const needH = (info.outHeight - 1) * sh + kh;
  const needW = (info.outWidth - 1) * sw + kw;
  const xp = padCrop(s, x, top, needH - h - top, left, needW - w - left);
  const xt = s.run('Transpose', { x: xp }, { perm: [3, 1, 2, 0] }); // [ci, H', W', b]
  const dyt = s.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }); // [oh, ow, b, co]
  const c = s.run('Conv2D', { x: xt, filter: dyt }, { strides: [1, 1], pad: 'valid', dilations: [sh, sw], dataFormat: 'NHWC' }); // [ci, kh, kw, co]
  const out = s.run('Transpose', { x: c }, { perm: [1, 2, 0, 3] });
  return s.finish(out);
}

/**
 * dx for a strided conv by polyphase decomposition (the "sub-pixel convolution" identity):
 * writing a padded-input index as j = q·s + r, dxpad[q·s + r] = Σ_m dy[q − m] · w[m·s + r], i.e.
 * for each phase r a stride-1 correlation of dy with the sub-filter w[·s + r] (flipped). All
 * s_h·s_w phases run as ONE Conv2D with s_h·s_w·ci output channels, which a reshape/transpose
 * interleaves back into space. Same MACs as the forward conv, instead of s² times more when
 * zeros are inserted into dy.
 */
function stridedInputGrad(s: Scope, dy: Info, filter: Info, info: tf.backend_util.Conv2DInfo, inputShape: number[]): Info {
  const [b, h, w, ci] = inputShape;
  const [kh, kw, , co] = filter.shape;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const mh = Math.ceil(kh / sh);
  const mw = Math.ceil(kw / sw);
  let f: Info = filter;
  if (mh * sh !== kh || mw * sw !== kw) {
    f = s.run('PadV2', { x: f }, { paddings: [[0, mh * sh - kh], [0, mw * sw - kw], [0, 0], [0, 0]], constantValue: 0 });
  }
  f = s.run('Reshape', { x: f }, { shape: [mh, sh, mw, sw, ci, co] });
  f = s.run('Reverse', { x: f }, { dims: [0, 2] });
  f = s.run('Transpose', { x: f }, { perm: [0, 2, 5, 1, 3, 4] }); // [mh, mw, co, sh, sw, ci]
  f = s.run('Reshape', { x: f }, { shape: [mh, mw, co, sh * sw * ci] });
  const { top, left } = info.padInfo;
  const qh = Math.ceil((top + h) / sh);
  const qw = Math.ceil((left + w) / sw);
  const dyp = padCrop(s, dy, mh - 1, qh - info.outHeight, mw - 1, qw - info.outWidth);
  let z = s.run('Conv2D', { x: dyp, filter: f }, { strides: [1, 1], pad: 'valid', dilations: [1, 1], dataFormat: 'NHWC' }); // [b, qh, qw, sh·sw·ci]
  z = s.run('Reshape', { x: z }, { shape: [b, qh, qw, sh, sw, ci] });
  z = s.run('Transpose', { x: z }, { perm: [0, 1, 3, 2, 4, 5] });
  z = s.run('Reshape', { x: z }, { shape: [b, qh * sh, qw * sw, ci] });
  if (top === 0 && left === 0 && qh * sh === h && qw * sw === w) return z;
  return s.run('Slice', { x: z }, { begin: [0, top, left, 0], size: [b, h, w, ci] });
}

/** dx for y = conv2d(x, W): inputs {dy, filter}, attrs {strides, pad, dataFormat, dimRoundingMode, inputShape}. */
function conv2DBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): Info {
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const attrs = (args.attrs ?? {}) as Attrs;
  const inputShape = attrs.inputShape as number[];
  const info = convInfo(inputShape, filter.shape, attrs);
  const s = new Scope(args.backend);
  if (info.strideHeight > 1 || info.strideWidth > 1) return s.finish(stridedInputGrad(s, dy, filter, info, inputShape));
  const [, h, w, ci] = inputShape;
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  const pt = kh - 1 - info.padInfo.top;
  const pl = kw - 1 - info.padInfo.left;
  const dp = padCrop(s, dy, pt, h + kh - 1 - pt - info.outHeight, pl, w + kw - 1 - pl - info.outWidth);
  const flipped = s.run('Reverse', { x: filter }, { dims: [0, 1] });
  const wt = s.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }); // [kh, kw, co, ci]
  const out = s.run('Conv2D', { x: dp, filter: wt }, { strides: [1, 1], pad: 'valid', dilations: [1, 1], dataFormat: 'NHWC' });
  if (out.shape[1] !== h || out.shape[2] !== w || out.shape[3] !== ci) {
    throw new Error(`Conv2DBackpropInput: internal shape error [${out.shape.join(',')}] vs [${inputShape.join(',')}]`);
  }
  return s.finish(out);
}

/** wasm's own Tile, kept for the general case; its setupFunc must have run on the backend. */
let originalTile: tf.KernelConfig | undefined;
const tileSetUp = new WeakSet<object>();

/**
 * Tile where every repeated axis has size 1 is a broadcast; tfjs' BatchNormalization gradient
 * does exactly that (1/σ of shape [1,1,1,C] to [B,H,W,C]) and wasm's generic Tile kernel made it
 * the most expensive op of a training step. A broadcast Add onto zeros does it in two fast
 * passes; any other Tile goes to wasm's own kernel.
 */
function tile(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): Info {
  const { x } = args.inputs as { x: Info };
  const reps = (args.attrs?.reps ?? []) as number[];
  const broadcast = x.dtype !== 'string' && x.dtype !== 'bool' && x.shape.every((d, i) => reps[i] === 1 || d === 1);
  if (!broadcast) {
    if (!originalTile) throw new Error('wasm Tile kernel missing');
    if (originalTile.setupFunc && !tileSetUp.has(args.backend)) {
      originalTile.setupFunc(args.backend);
      tileSetUp.add(args.backend);
    }
    return originalTile.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as Info;
  }
  const s = new Scope(args.backend);
  const shape = x.shape.map((d, i) => d * reps[i]);
  const zeros = s.run('Fill', {}, { shape, value: 0, dtype: x.dtype });
  return s.finish(s.run('Add', { a: zeros, b: x }, {}));
}

const KERNELS: tf.KernelConfig[] = [
  { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc },
  { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc },
  { kernelName: 'Tile', backendName: 'wasm', kernelFunc: tile as unknown as tf.KernelFunc },
];

/**
 * Registers our Conv2DBackpropFilter / Conv2DBackpropInput (and a broadcast fast path for Tile,
 * which BatchNormalization's gradient uses) for the wasm backend, replacing wasm's own
 * Conv2DBackpropInput. Idempotent. `@tensorflow/tfjs-backend-wasm` must have been
 * imported before (its kernels, which ours call, register on import).
 */
export function registerWasmGradientKernels(): void {
  if (!tf.getKernel('Conv2D', 'wasm')) {
    throw new Error('registerWasmGradientKernels: import @tensorflow/tfjs-backend-wasm before registering the gradient kernels');
  }
  for (const k of KERNELS) {
    const existing = tf.getKernel(k.kernelName, 'wasm');
    if (existing?.kernelFunc === k.kernelFunc) continue;
    // Someone may have wrapped our kernel since (training wraps Conv2DBackpropInput to skip the
    // image gradient): leave a wrapper alone; replace only a missing kernel or wasm's own.
    if (existing && replaced.has(k.kernelName) && !isWasmOriginal(existing)) continue;
    if (existing) {
      if (k.kernelName === 'Tile') originalTile = existing;
      tf.unregisterKernel(k.kernelName, 'wasm');
    }
    tf.registerKernel(k);
    replaced.add(k.kernelName);
  }
}

/** Kernel names we have registered at least once in this process. */
const replaced = new Set<string>();
/** wasm's own kernels carry a setupFunc (they cwrap into the wasm module); ours and wrappers of ours do not need one. */
function isWasmOriginal(k: tf.KernelConfig): boolean {
  return typeof k.setupFunc === 'function' && !KERNELS.some((o) => o.kernelFunc === k.kernelFunc);
}

/** True when our gradient kernels are the ones registered for wasm. */
export function wasmGradientKernelsRegistered(): boolean {
  return KERNELS.every((k) => tf.getKernel(k.kernelName, 'wasm')?.kernelFunc === k.kernelFunc);
}
