/**
 * Conv2DBackpropInput as forward convolutions, for tfjs' WebGL backend.
 *
 * WebGL's own input gradient is a direct shader that loops over every filter tap and output channel per output
 * texel (conv_backprop_packed_gpu.js), while its forward Conv2D goes through im2col and a packed matmul. On this
 * machine's Chromium (SwiftShader WebGL, .scratch/webgl-ops.mjs) the direct shader took 1.9 × the forward for a
 * 3×3 conv on 32²×64 and 2.3 × for a 3×3 stride-2 one, and guided backprop is a chain of such gradients. Written as
 * forward convolutions (the identities of wasm-gradients.ts, with the backend's own kernels):
 *
 *  - stride 1: dx = a "valid" Conv2D of dy padded by (k − 1 − padBefore, …) with the spatially flipped filter, in and
 *    out channels swapped;
 *  - stride s > 1 (the same in both axes): polyphase — for each phase (rh, rw) a stride-1 Conv2D of dy with the
 *    flipped sub-filter w[rh::s, rw::s] gives dx at rows ≡ rh, columns ≡ rw (mod s) of the padded input; the s²
 *    phases are stacked on the channel axis and put back into space by DepthToSpace, then the padding is cropped.
 *
 * The filter transforms are a few small kernels per call (filters are at most 3×3×128×128 in these models).
 *
 * Where it pays (.scratch/webgl-dx.mjs, SwiftShader WebGL, own kernel → rewrite, ms): 3×3 stride 1 on 16²×128
 * 77 → 34, 32²×64 77 → 36, 64²×32 85 → 50, 128²×16 104 → 79; 3×3 stride 2 into 128²×16 67 → 52, 64²×32 57 → 35,
 * 32²×64 51 → 31. Where it does not, the backend's own kernel runs: few input channels (the stems: 5×5/2 into
 * one channel 193 → 607, ResNet50's 7×7/2 into three 2069 → 5301, the im2col matmul then has a tiny output
 * width), and strides whose phases miss taps (1×1 stride 2: 16 → 25, three of four phases are zeros). Also NCHW,
 * dilation, unequal strides and non-float32.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelScope as Scope, paddedConv } from './kernel-scope';

type Info = tf.TensorInfo;
type Attrs = Record<string, unknown>;

/** w [kh, kw, ci, co] -> flipped in space, channels swapped: [kh, kw, co, ci]. */
function flipSwap(s: Scope, w: Info): Info {
  const r = s.run('Reverse', { x: w }, { dims: [0, 1] });
  return s.run('Transpose', { x: r }, { perm: [0, 1, 3, 2] });
}

/** Input channels below which the backend's own kernel is faster (see the measurements above). */
export const MIN_INPUT_CHANNELS = 16;

/**
 * dx for y = conv2d(x, W) as forward convolutions; null when the case is left to the backend's own kernel.
 * @param minChannels input channels from which to rewrite (tests lower it to cover small shapes)
 */
export function convInputGradAsForward(
  args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap },
  backendName: string,
  minChannels = MIN_INPUT_CHANNELS,
): Info | null {
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const attrs = (args.attrs ?? {}) as Attrs;
  const inputShape = attrs.inputShape as [number, number, number, number];
  const dataFormat = (attrs.dataFormat as string | undefined) ?? 'NHWC';
  if (dataFormat !== 'NHWC' || dy.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1 || sh !== sw) return null;
  const [, h, w, ci] = inputShape;
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  if (ci < minChannels || kh < sh || kw < sw) return null;
  const s = new Scope(args.backend, backendName);
  try {
    if (sh === 1) {
      const pt = kh - 1 - info.padInfo.top;
      const pl = kw - 1 - info.padInfo.left;
      const out = paddedConv(s, dy, flipSwap(s, filter), pt, h + kh - 1 - pt - info.outHeight, pl, w + kw - 1 - pl - info.outWidth);
      return s.finish(out);
    }
    const { top, left } = info.padInfo;
    const qh = Math.ceil((top + h) / sh);
    const qw = Math.ceil((left + w) / sw);
    const [nb] = dy.shape;
    const phases: Info[] = [];
    for (let rh = 0; rh < sh; rh++) {
      for (let rw = 0; rw < sw; rw++) {
        // every phase has taps (kh ≥ sh, kw ≥ sw above)
        const mh = Math.ceil((kh - rh) / sh);
        const mw = Math.ceil((kw - rw) / sw);
        const sub = s.run('StridedSlice', { x: filter }, {
          begin: [rh, rw, 0, 0],
          end: [kh, kw, ci, filter.shape[3]],
          strides: [sh, sw, 1, 1],
          beginMask: 0,
          endMask: 0,
          ellipsisMask: 0,
          newAxisMask: 0,
          shrinkAxisMask: 0,
        });
        // dxpad[q·s + r] = Σ_m dy[q − m] · w[m·s + r]: a "full" correlation of dy with the flipped sub-filter,
        // cut (or padded) to qh × qw phase rows and columns
        phases.push(paddedConv(s, dy, flipSwap(s, sub), mh - 1, qh - info.outHeight, mw - 1, qw - info.outWidth));
      }
    }
    // Concat takes its inputs as a list
    const stacked = s.run('Concat', phases as unknown as Record<string, Info>, { axis: 3 });
    const space = s.run('DepthToSpace', { x: stacked }, { blockSize: sh, dataFormat: 'NHWC' });
    const out = s.run('Slice', { x: space }, { begin: [0, top, left, 0], size: [nb, h, w, ci] });
    return s.finish(out);
  } catch (e) {
    s.abandon();
    throw e;
  }
}

const originals = new Map<string, tf.KernelConfig>();

/**
 * Replaces `backendName`'s Conv2DBackpropInput by {@link convInputGradAsForward} (the original kernel still runs
 * the cases it leaves alone). Idempotent; a no-op when the backend has no such kernel.
 */
export function registerConvInputGradAsForward(backendName: string, minChannels = MIN_INPUT_CHANNELS): void {
  const existing = tf.getKernel('Conv2DBackpropInput', backendName);
  if (!existing || originals.has(backendName)) return;
  originals.set(backendName, existing);
  const kernelFunc = ((args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }) =>
    convInputGradAsForward(args, backendName, minChannels) ?? existing.kernelFunc(args as never)) as tf.KernelFunc;
  tf.unregisterKernel('Conv2DBackpropInput', backendName);
  tf.registerKernel({ kernelName: 'Conv2DBackpropInput', backendName, kernelFunc });
}

/** Puts the backend's own Conv2DBackpropInput back (tests). */
export function unregisterConvInputGradAsForward(backendName: string): void {
  const original = originals.get(backendName);
  if (!original) return;
  tf.unregisterKernel('Conv2DBackpropInput', backendName);
  tf.registerKernel(original);
  originals.delete(backendName);
}
