/**
 * Run-time backend choice for training / evaluation in Node:
 *   tfjs-node-gpu (CUDA) › tfjs-node (native TensorFlow CPU) › wasm › cpu.
 * tfjs-node(-gpu) are optionalDependencies: where their native binaries cannot install (this
 * project's CI, no internet) the import fails and we fall through. On wasm, the project's
 * gradient kernels (Conv2DBackpropFilter/Input, src/core/backends) are registered by setupBackend.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setupBackend } from '../../src/core/backends/index';

let fastBnInstalled = false;

/**
 * Replaces tfjs' FusedBatchNorm gradient with an algebraically identical one that needs no Tile
 * and fewer full-size multiplies. tfjs 4.22's version tiles rsqrt(var) to the full activation
 * shape; on wasm that Tile alone took ~25 % of a compact-net training step (tf.profile, 256²).
 * For a per-channel mean (rank 1), with s = scale, r = rsqrt(var + ε), d = x − mean, Σ over all
 * but the channel axis:
 *   ∂x = dy·s·r   ∂mean = −r·s·Σdy   ∂var = −½r³·s·Σ(dy·d)   ∂scale = r·Σ(dy·d)   ∂offset = Σdy
 * Other mean ranks keep the original gradient. Idempotent; global to the tfjs instance, so
 * training installs it (every backend profits); tests compare it with the original.
 */
export function registerFastBatchNormGradient(): void {
  if (fastBnInstalled) return;
  const original = tf.getGradient('FusedBatchNorm');
  if (!original) return;
  tf.registerGradient({
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs?: tf.NamedAttrMap) => {
      const [x, mean, variance, scale] = saved;
      if (mean.rank !== 1 || x.rank < 2) return original.gradFunc(dy, saved, attrs ?? {});
      const g = dy as tf.Tensor;
      const eps = (attrs as unknown as { varianceEpsilon: number }).varianceEpsilon;
      const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
      const s = scale ?? tf.scalar(1);
      const r = tf.rsqrt(tf.add(variance, eps));
      // no memoisation across the closures: the tape runs each in its own scope and disposes its results
      const getSumDy = () => tf.sum(g, axes);
      const getSumDyD = () => tf.sum(tf.mul(g, tf.sub(x, mean)), axes);
      return {
        x: () => tf.mul(g, tf.mul(r, s)),
        mean: () => tf.reshape(tf.mul(tf.neg(tf.mul(r, s)), getSumDy()), mean.shape),
        variance: () => tf.reshape(tf.mul(tf.mul(tf.mul(tf.pow(r, 3), -0.5), s), getSumDyD()), mean.shape),
        scale: () => tf.reshape(tf.mul(r, getSumDyD()), mean.shape),
        offset: () => tf.reshape(getSumDy(), mean.shape),
      };
    },
  });
  fastBnInstalled = true;
}

let skipInputGradShape: string | null = null;
const skipWrapped = new Set<string>();

/**
 * tfjs-layers runs Conv2D through tf.fused.conv2d, whose tf.customGrad gradient ALWAYS computes
 * the input gradient, even for the first convolution, whose input is the image: a
 * Conv2DBackpropInput to [b, S, S, 3] that the tape then throws away. At 512² on wasm that was
 * ~1.1 s of a 4.8 s compact-net step. While `fn` runs, this returns zeros (Fill) instead for
 * exactly that output shape; everything else passes through to the registered kernel.
 * Safe because nothing inside a training step differentiates w.r.t. the image.
 */
export function withoutImageGradient<T>(imageShape: number[], fn: () => T): T {
  const backendName = tf.getBackend();
  if (!skipWrapped.has(backendName)) {
    const original = tf.getKernel('Conv2DBackpropInput', backendName);
    const fill = tf.getKernel('Fill', backendName);
    if (!original || !fill) return fn();
    tf.unregisterKernel('Conv2DBackpropInput', backendName);
    tf.registerKernel({
      ...original,
      kernelFunc: (args) => {
        const shape = (args.attrs as unknown as { inputShape: number[] }).inputShape;
        if (skipInputGradShape !== null && shape.join('x') === skipInputGradShape) {
          return fill.kernelFunc({ inputs: {}, backend: args.backend, attrs: { shape, value: 0, dtype: 'float32' } });
        }
        return original.kernelFunc(args);
      },
    });
    skipWrapped.add(backendName);
  }
  const prev = skipInputGradShape;
  skipInputGradShape = imageShape.join('x');
  try {
    return fn();
  } finally {
    skipInputGradShape = prev;
  }
}

/** Names accepted by --backend. 'node-gpu' and 'node' both end up as tfjs' 'tensorflow' backend. */
export const BACKEND_CHOICES = ['node-gpu', 'node', 'tensorflow', 'wasm', 'cpu'] as const;

async function tryImport(pkg: string): Promise<boolean> {
  try {
    // a variable specifier keeps TypeScript and bundlers from resolving the optional package
    await import(/* @vite-ignore */ pkg);
    return tf.findBackendFactory('tensorflow') != null;
  } catch {
    return false;
  }
}

/**
 * Picks, initialises and PRINTS (stderr) the fastest available backend, or the forced one.
 * @param forced one of BACKEND_CHOICES; an unavailable forced backend is an error, not a fallback.
 * @returns the tfjs backend name now active ('tensorflow' | 'wasm' | 'cpu').
 */
export async function pickBackend(forced?: string, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<string> {
  if (forced && !(BACKEND_CHOICES as readonly string[]).includes(forced)) {
    throw new Error(`unknown --backend ${forced}; choose one of ${BACKEND_CHOICES.join(', ')}`);
  }
  const order: string[] = [];
  let nativeFrom = '';
  const wantNative = !forced || forced === 'node-gpu' || forced === 'node' || forced === 'tensorflow';
  if (wantNative) {
    const pkgs = forced === 'node' ? ['@tensorflow/tfjs-node'] : forced === 'node-gpu' ? ['@tensorflow/tfjs-node-gpu'] : ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];
    for (const p of pkgs) {
      if (await tryImport(p)) {
        nativeFrom = p;
        order.push('tensorflow');
        break;
      }
    }
    if (forced && !nativeFrom) throw new Error(`--backend ${forced}: ${pkgs.join(' / ')} is not installed or failed to load on this machine`);
    if (!nativeFrom) log('[backend] tfjs-node-gpu / tfjs-node not available (optional native packages not installed); falling back');
  }
  if (!forced) order.push('wasm', 'cpu');
  else if (forced === 'wasm' || forced === 'cpu') order.push(forced);

  const chosen = await setupBackend(order);
  registerFastBatchNormGradient();
  if (forced && chosen !== order[0]) throw new Error(`--backend ${forced} failed to initialise (got ${chosen})`);
  const detail =
    chosen === 'tensorflow'
      ? `native TensorFlow via ${nativeFrom}`
      : chosen === 'wasm'
        ? 'WebAssembly, single-threaded in Node; FundusLens gradient kernels registered'
        : 'plain JavaScript (slow)';
  log(`[backend] using '${chosen}' (${detail})`);
  return chosen;
}
