/**
 * What our gradient kernels share: running a backend's own registered kernels on TensorInfos inside a kernel
 * (nothing is recorded on a gradient tape), freeing every intermediate, and the padded stride-1 convolution both
 * input-gradient rewrites are built from (wasm-gradients.ts, conv-input-grad.ts).
 */
import * as tf from '@tensorflow/tfjs';

type Info = tf.TensorInfo;
type Attrs = Record<string, unknown>;

interface DisposingBackend {
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Runs `backendName`'s registered kernels and keeps track of what to free. */
export class KernelScope {
  private readonly temps: Info[] = [];
  constructor(
    readonly backend: tf.KernelBackend,
    readonly backendName: string,
  ) {}

  run(kernel: string, inputs: Record<string, Info>, attrs: Attrs): Info {
    const cfg = tf.getKernel(kernel, this.backendName);
    if (!cfg) throw new Error(`${this.backendName} kernel ${kernel} is not registered`);
    return this.track(cfg.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend: this.backend, attrs: attrs as tf.NamedAttrMap }) as Info);
  }

  /** Frees `info` with the other intermediates (for outputs the caller made itself). */
  track(info: Info): Info {
    this.temps.push(info);
    return info;
  }

  /** Frees every intermediate except `keep`. */
  finish(keep: Info): Info {
    for (const t of this.temps) if (t !== keep) this.free(t);
    return keep;
  }

  /** Frees everything (on an error). */
  abandon(): void {
    for (const t of this.temps) this.free(t);
  }

  private free(t: Info): void {
    (this.backend as unknown as DisposingBackend).disposeData(t.dataId);
  }
}

/** Pads (possibly negatively, i.e. crops) the spatial axes of an NHWC tensor. */
export function padCrop(s: KernelScope, x: Info, top: number, bottom: number, left: number, right: number): Info {
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

/**
 * A stride-1 "valid" Conv2D of x padded by (top, bottom, left, right). Non-negative pads go to the convolution
 * itself (no padded copy of x: XNNPACK and WebGL's im2col pad implicitly); negative ones crop first.
 */
export function paddedConv(s: KernelScope, x: Info, f: Info, top: number, bottom: number, left: number, right: number): Info {
  const xc = padCrop(s, x, Math.min(0, top), Math.min(0, bottom), Math.min(0, left), Math.min(0, right));
  const pad = [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)], [0, 0]];
  return s.run('Conv2D', { x: xc, filter: f }, { strides: [1, 1], pad, dilations: [1, 1], dataFormat: 'NHWC' });
}
