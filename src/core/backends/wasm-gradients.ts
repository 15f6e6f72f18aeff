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
 *    The flipped filters are cached per source filter (see filterCaches).
 *
 * Also replaced, because they dominated a guided-backprop pass once the convolutions were fast:
 * MaxPoolGrad (a pass on the backend's heap, heap-kernels.wat, or in JS; see maxPoolGrad) and Identity / same-dtype Cast (shared buffers instead
 * of copies, see shareOrCopy). ResNet50 at 512², one guided-backprop pass on Node wasm, CPU time
 * (bench/profile-guided.ts): 3.6 F before these changes, 1.9–2.0 F after (F = one forward pass).
 *
 * Kernels call the other wasm kernels' functions directly (not through the engine), so nothing
 * is recorded on a gradient tape and every intermediate is released with backend.disposeData.
 */
import * as tf from '@tensorflow/tfjs';
import { heapKernels } from './heap-kernels';
import { KernelScope, padCrop, paddedConv } from './kernel-scope';

type Info = tf.TensorInfo;
type Attrs = Record<string, unknown>;

/** Our kernels run wasm's own kernels (kernel-scope.ts); `output` makes an uninitialised float32 result. */
class Scope extends KernelScope {
  constructor(backend: tf.KernelBackend) {
    super(backend, 'wasm');
  }

  /** A new uninitialised float32 backend tensor, freed like the other intermediates. */
  output(shape: number[]): Info {
    return this.track((this.backend as unknown as WasmBackend).makeOutput(shape, 'float32'));
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

/** What our kernels use of tfjs-backend-wasm's BackendWasm (public JS members). */
interface WasmBackend {
  dataIdMap: { has(dataId: object): boolean };
  disposeData(dataId: object, force?: boolean): boolean;
  dispose(): void;
  readSync(dataId: object): Float32Array;
  makeOutput(shape: number[], dtype: 'float32', memoryOffset?: number, values?: Float32Array): Info;
  incRef(dataId: object): void;
  /** a view on the wasm heap: valid until the next allocation (the heap may grow) */
  typedArrayFromHeap(info: Info): Float32Array;
}

/** Filters derived from one source filter, by transform key; null = a phase without taps. */
type Derived = Map<string, (Info | null)[]>;
interface FilterCache {
  entries: Map<object, Derived>;
  /** the backend's own disposeData (ours wraps it) */
  free: (dataId: object) => void;
}

/**
 * Derived filters per backend, keyed by the SOURCE filter's dataId. XNNPACK (inside wasm's
 * Conv2D) caches its packed-weights operator per filter tensor; a flipped/transposed filter
 * built anew on every backward call defeated that cache (a fresh pack per layer per call,
 * +10…70 ms a layer on ResNet50@512) and is why the input gradient cost 2.2× all forward convs.
 * Keeping the derived filter alive as long as its source lets XNNPACK reuse the operator.
 *
 * Validity: tfjs never writes new values into an existing dataId (Variable.assign, setWeights,
 * optimisers all move the variable to a NEW dataId), so a source dataId always holds the same
 * values and a hit can never be stale. Lifetime: the backend's disposeData is wrapped so the
 * entries go as soon as the source's data is freed (a disposed model, an assigned variable,
 * a temporary filter at the end of its tidy); {@link clearWasmGradientCache} drops everything.
 */
const filterCaches = new Map<object, FilterCache>();

function cacheOf(backend: tf.KernelBackend): FilterCache {
  const known = filterCaches.get(backend);
  if (known) return known;
  const b = backend as unknown as WasmBackend;
  const disposeData = b.disposeData.bind(b);
  const dispose = b.dispose.bind(b);
  const cache: FilterCache = { entries: new Map(), free: (dataId) => void disposeData(dataId) };
  b.disposeData = (dataId: object, force?: boolean): boolean => {
    const freed = disposeData(dataId, force);
    if (cache.entries.size > 0 && !b.dataIdMap.has(dataId)) {
      const derived = cache.entries.get(dataId);
      if (derived) {
        cache.entries.delete(dataId);
        freeDerived(cache, derived);
      }
    }
    return freed;
  };
  // the wasm module (and with it every derived filter) dies with the backend
  b.dispose = () => {
    filterCaches.delete(backend);
    cache.entries.clear();
    dispose();
  };
  filterCaches.set(backend, cache);
  return cache;
}

function freeDerived(cache: FilterCache, derived: Derived): void {
  for (const list of derived.values()) for (const t of list) if (t) cache.free(t.dataId);
}

/**
 * Frees every cached derived filter of the wasm gradient kernels (they are otherwise freed with
 * their source filters). Never needed for correctness; useful to return memory early.
 */
export function clearWasmGradientCache(): void {
  for (const cache of filterCaches.values()) {
    for (const derived of cache.entries.values()) freeDerived(cache, derived);
    cache.entries.clear();
  }
}

/** Number of derived filters currently cached (all backends): for tests and diagnostics. */
export function wasmGradientCacheSize(): number {
  let n = 0;
  for (const cache of filterCaches.values()) for (const d of cache.entries.values()) for (const l of d.values()) n += l.filter(Boolean).length;
  return n;
}

/**
 * The sub-filter of phase (rh, rw) for stride (sh, sw), spatially flipped, in/out channels
 * swapped: out[a, b, o, i] = w[(mh−1−a)·sh + rh, (mw−1−b)·sw + rw, i, o], shape [mh, mw, co, ci]
 * with mh = ⌈(kh − rh)/sh⌉ taps (null when a phase has none). Stride 1 is the single phase (0, 0),
 * the whole flipped filter.
 */
function phaseFilter(w: Float32Array, shape: number[], sh: number, sw: number, rh: number, rw: number): { shape: number[]; values: Float32Array } | null {
  const [kh, kw, ci, co] = shape;
  const mh = Math.ceil((kh - rh) / sh);
  const mw = Math.ceil((kw - rw) / sw);
  if (mh <= 0 || mw <= 0) return null;
  const out = new Float32Array(mh * mw * co * ci);
  for (let a = 0; a < mh; a++) {
    for (let b = 0; b < mw; b++) {
      const src = (((mh - 1 - a) * sh + rh) * kw + (mw - 1 - b) * sw + rw) * ci * co;
      const dst = (a * mw + b) * co * ci;
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) out[dst + o * ci + i] = w[src + i * co + o];
      }
    }
  }
  return { shape: [mh, mw, co, ci], values: out };
}

/**
 * All phases in ONE filter [mh, mw, co, sh·sw·ci] (mh = ⌈kh/sh⌉ taps for every phase, zeros
 * where a phase has fewer): out[a, b, o, (rh·sw + rw)·ci + i] = w[(mh−1−a)·sh + rh, (mw−1−b)·sw + rw, i, o].
 * More MACs than the separate phases, but one GEMM with sh·sw·ci outputs instead of sh·sw GEMMs
 * with ci outputs each — much faster when ci is tiny (the stem's 3 colour channels).
 */
function combinedPhaseFilter(w: Float32Array, shape: number[], sh: number, sw: number): { shape: number[]; values: Float32Array } {
  const [kh, kw, ci, co] = shape;
  const mh = Math.ceil(kh / sh);
  const mw = Math.ceil(kw / sw);
  const n = sh * sw * ci;
  const out = new Float32Array(mh * mw * co * n);
  for (let a = 0; a < mh; a++) {
    for (let b = 0; b < mw; b++) {
      for (let rh = 0; rh < sh; rh++) {
        const y = (mh - 1 - a) * sh + rh;
        if (y >= kh) continue;
        for (let rw = 0; rw < sw; rw++) {
          const x = (mw - 1 - b) * sw + rw;
          if (x >= kw) continue;
          const src = (y * kw + x) * ci * co;
          const dst = (a * mw + b) * co * n + (rh * sw + rw) * ci;
          for (let i = 0; i < ci; i++) {
            for (let o = 0; o < co; o++) out[dst + o * n + i] = w[src + i * co + o];
          }
        }
      }
    }
  }
  return { shape: [mh, mw, co, n], values: out };
}

/**
 * The derived filters of `filter` for stride (sh, sw), cached: the phases row-major (one per
 * phase, null for a phase without taps), or with `combined` the single all-phase filter.
 */
function derivedFilters(backend: tf.KernelBackend, filter: Info, sh: number, sw: number, combined: boolean): (Info | null)[] {
  const cache = cacheOf(backend);
  const key = `${combined ? 'all' : 'phases'}${sh}x${sw}|${filter.shape.join(',')}`;
  let derived = cache.entries.get(filter.dataId);
  const hit = derived?.get(key);
  if (hit) return hit;
  const b = backend as unknown as WasmBackend;
  const w = b.readSync(filter.dataId);
  const make = (f: { shape: number[]; values: Float32Array } | null) => (f ? b.makeOutput(f.shape, 'float32', undefined, f.values) : null);
  const list: (Info | null)[] = [];
  if (combined) {
    list.push(make(combinedPhaseFilter(w, filter.shape, sh, sw)));
  } else {
    for (let rh = 0; rh < sh; rh++) for (let rw = 0; rw < sw; rw++) list.push(make(phaseFilter(w, filter.shape, sh, sw, rh, rw)));
  }
  if (!derived) {
    derived = new Map();
    cache.entries.set(filter.dataId, derived);
  }
  derived.set(key, list);
  return list;
}

/**
 * Strided input gradients whose phases have at most this many output channels in all run as one
 * convolution (see combinedPhaseFilter). Measured on wasm (input gradient ÷ forward conv):
 * ResNet50's stem (7×7/2, ci 3 → 12 channels) 3.6 × as phases, 2.3 × combined; 3×3/2 with
 * ci 64 (256 channels) 1.2 × as phases, 2.0 × combined; the crossover lies near 64–128.
 */
const COMBINE_PHASES_MAX_CHANNELS = 64;

/**
 * dx for a strided conv by polyphase decomposition (the "sub-pixel convolution" identity):
 * writing a padded-input index as j = q·s + r, dxpad[q·s + r] = Σ_m dy[q − m] · w[m·s + r], i.e.
 * for each phase r a stride-1 correlation of dy with the sub-filter w[·s + r] (flipped), which
 * has ⌈(k − r)/s⌉ taps. Each phase runs as its own Conv2D with exactly its taps (padding the
 * sub-filters to a common size did 16/9 × the work for a 3×3 stride-2 conv and 4 × for a 1×1
 * stride-2 shortcut), then the phases are interleaved back into space. Same MACs as the forward.
 */
function stridedInputGrad(s: Scope, dy: Info, filter: Info, info: tf.backend_util.Conv2DInfo, inputShape: number[]): Info {
  const [b, h, w, ci] = inputShape;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const { top, left } = info.padInfo;
  const qh = Math.ceil((top + h) / sh);
  const qw = Math.ceil((left + w) / sw);
  // Combined only when every phase has taps: the combined filter pads a tapless phase with zeros, so a 1×1
  // stride-2 shortcut would spend 3/4 of its MACs on zeros and write a 4× wider output (the demo model's
  // 16→32 shortcut at 128², wasm: 1.1–2.1 ms combined, 0.5–0.7 ms as its one phase).
  const combined = ci * sh * sw <= COMBINE_PHASES_MAX_CHANNELS && info.filterHeight >= sh && info.filterWidth >= sw;
  const filters = derivedFilters(s.backend, filter, sh, sw, combined);
  const phase = (f: Info) => paddedConv(s, dy, f, f.shape[0] - 1, qh - info.outHeight, f.shape[1] - 1, qw - info.outWidth); // [b, qh, qw, ci or sh·sw·ci]
  const parts = filters.map((f) => (f ? phase(f) : null));
  return interleavePhases(s, parts, combined, inputShape, sh, sw, top, left, qh, qw);
}

/**
 * dx[n, y, x, c] = dxpad[n, y + top, x + left, c] with dxpad[n, q·sh + rh, p·sw + rw, c] taken from
 * phase (rh, rw) at [n, q, p] — in one pass over the heap (heap-kernels.wat copy_blocks, one call per output row,
 * where that module runs; else JS loops: the same bits), writing the final (cropped) dx. The
 * same in wasm kernels (Concat of the phases, a 6-D Transpose, Slice) cost ~5 × a 5×5/2 stem's
 * forward convolution on the demo model: its generic transpose is slow for 3 channels.
 * `parts`: one [b, qh, qw, ci] per phase (null: no taps, zeros), or with `combined` one
 * [b, qh, qw, sh·sw·ci].
 */
function interleavePhases(
  s: Scope,
  parts: (Info | null)[],
  combined: boolean,
  shape: number[],
  sh: number,
  sw: number,
  top: number,
  left: number,
  qh: number,
  qw: number,
): Info {
  const [nb, h, w, ci] = shape;
  const b = s.backend as unknown as WasmBackend;
  const out = s.output(shape);
  // views only after the allocation above (it may have grown the heap)
  const dst = b.typedArrayFromHeap(out);
  const src = parts.map((p) => (p ? b.typedArrayFromHeap(p) : null));
  const stride = combined ? sh * sw * ci : ci;
  // Rows and columns of a phase without taps are zeros: one fill of the whole output, not one per pixel.
  const someTapless = src.some((p) => p === null);
  if (someTapless) dst.fill(0);
  // the copies on the backend's heap where that module runs (heap-kernels.wat copy_blocks): the demo model's
  // guided backprop spent ~5 ms of a ~55 ms pass in the JS copy loops below
  const heap = heapKernels(b);
  // Phase by phase, so the inner loop is a plain strided copy: output rows y ≡ rh (mod sh) and columns
  // x ≡ rw (mod sw), shifted by the padding, come from phase (rh, rw) (a per-pixel floor/modulo was ~6 ms of
  // the demo stem's 512² gradient, as much as its convolution).
  for (let rh = 0; rh < sh; rh++) {
    const y0 = (((rh - top) % sh) + sh) % sh; // first y with (y + top) % sh === rh
    for (let rw = 0; rw < sw; rw++) {
      const x0 = (((rw - left) % sw) + sw) % sw;
      const phase = rh * sw + rw;
      const from = combined ? src[0] : src[phase];
      if (!from) continue; // zeroed above
      const off = combined ? phase * ci : 0;
      for (let n = 0; n < nb; n++) {
        for (let y = y0; y < h; y += sh) {
          const q = (y + top - rh) / sh;
          const rowDst = (n * h + y) * w;
          const rowSrc = (n * qh + q) * qw;
          if (heap) {
            // the row's pixels, one block of ci floats each, in one call (the JS loops below, as copies)
            const count = Math.ceil((w - x0) / sw);
            if (count > 0) {
              const o = (rowSrc + (x0 + left - rw) / sw) * stride + off;
              heap.copyBlocks(dst.byteOffset + (rowDst + x0) * ci * 4, from.byteOffset + o * 4, count, ci * 4, sw * ci * 4, stride * 4);
            }
            continue;
          }
          if (ci === 1) {
            for (let x = x0, o = (rowSrc + (x0 + left - rw) / sw) * stride + off; x < w; x += sw, o += stride) dst[rowDst + x] = from[o];
            continue;
          }
          for (let x = x0; x < w; x += sw) {
            const d = (rowDst + x) * ci;
            const o = (rowSrc + (x + left - rw) / sw) * stride + off;
            for (let c = 0; c < ci; c++) dst[d + c] = from[o + c];
          }
        }
      }
    }
  }
  return out;
}

/** dx for y = conv2d(x, W): inputs {dy, filter}, attrs {strides, pad, dataFormat, dimRoundingMode, inputShape}. */
function conv2DBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): Info {
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const attrs = (args.attrs ?? {}) as Attrs;
  const inputShape = attrs.inputShape as number[];
  const info = convInfo(inputShape, filter.shape, attrs);
  const s = new Scope(args.backend);
  if (info.strideHeight > 1 || info.strideWidth > 1) return s.finish(stridedInputGrad(s, dy, filter, info, inputShape));
  const filters = derivedFilters(args.backend, filter, 1, 1, false);
  // stride 1: dx[i] = Σ_k dy[i + padBefore − k] · w[k], a "valid" convolution of dy padded by
  // k−1−padBefore with the flipped, channel-swapped filter (a 1×1 kernel: just dy · Wᵀ as a GEMM)
  const [, h, w, ci] = inputShape;
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  const pt = kh - 1 - info.padInfo.top;
  const pl = kw - 1 - info.padInfo.left;
  const out = paddedConv(s, dy, filters[0]!, pt, h + kh - 1 - pt - info.outHeight, pl, w + kw - 1 - pl - info.outWidth);
  if (out.shape[1] !== h || out.shape[2] !== w || out.shape[3] !== ci) {
    throw new Error(`Conv2DBackpropInput: internal shape error [${out.shape.join(',')}] vs [${inputShape.join(',')}]`);
  }
  return s.finish(out);
}

/** Index of the first strictly largest of a rows×cols window at `p` (row stride `row`, column stride `c`); -1 when none is (all NaN). */
function maxAt(x: Float32Array, p: number, rows: number, cols: number, c: number, row: number): number {
  let best = -Infinity;
  let at = -1;
  for (let r = 0; r < rows; r++) {
    for (let k = 0, i = p + r * row; k < cols; k++, i += c) {
      if (x[i] > best) {
        best = x[i];
        at = i;
      }
    }
  }
  return at;
}

/**
 * MaxPool gradient, NHWC float32, written in JS over the wasm heap: wasm's own MaxPoolGrad took
 * 0.45–0.55 s for ResNet50's one 3×3/2 pool at 512² (~0.2 F of a guided-backprop pass); this
 * single pass takes a few tens of ms. Each output's gradient goes to the FIRST strictly largest
 * input of its window in row-major order (padding excluded), as in tfjs' cpu backend, so ties
 * (zeros after a ReLU) resolve identically.
 */
function maxPoolGrad(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): Info {
  const { dy, input, output } = args.inputs as { dy: Info; input: Info; output?: Info };
  if (input.dtype !== 'float32' || dy.dtype !== 'float32') return callOriginal('MaxPoolGrad', args);
  const attrs = (args.attrs ?? {}) as Attrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize as [number, number] | number,
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  const b = args.backend as unknown as WasmBackend;
  const out = b.makeOutput(input.shape, 'float32');
  // views only after the allocation above (it may have grown the heap)
  const x = b.typedArrayFromHeap(input);
  const g = b.typedArrayFromHeap(dy);
  const dx = b.typedArrayFromHeap(out);
  // the forward's maxima, when the caller passed them (tfjs' gradient does): the first input of
  // a window equal to its maximum IS the first strictly largest, found with one comparison per
  // element and an early exit instead of a running maximum (ResNet stem pool: 9.5 -> 5.3 ms)
  const y = output && output.dtype === 'float32' ? b.typedArrayFromHeap(output) : null;
  dx.fill(0);
  const { batchSize, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const fh = info.effectiveFilterHeight;
  const fw = info.effectiveFilterWidth;
  const { top, left } = info.padInfo;
  // The same pass as below, four channels a step, on the backend's heap (heap-kernels.wat; same bits), where it
  // runs and the windows hold no NaN. The demo model's stem pool (256²×16): 5.7 -> 1.2–2.0 ms; ResNet50's
  // (256²×64): 21 -> 6.4–7.3 ms (a micro-benchmark of the kernel call, Node wasm).
  const heap = y && C % 4 === 0 ? heapKernels(b) : null;
  if (heap && y) {
    const missing = heap.maxpoolGrad(
      x.byteOffset, y.byteOffset, g.byteOffset, dx.byteOffset, batchSize, H, W, C, OH, OW,
      info.strideHeight, info.strideWidth, fh, fw, top, left,
    );
    if (missing === 0) return out;
    dx.fill(0); // a NaN somewhere: the JS pass's running maximum decides, from scratch
  }
  const row = W * C;
  for (let n = 0; n < batchSize; n++) {
    const xBase = n * H * W * C;
    for (let oy = 0; oy < OH; oy++) {
      const y0 = Math.max(0, oy * info.strideHeight - top);
      const y1 = Math.min(H, oy * info.strideHeight - top + fh);
      for (let ox = 0; ox < OW; ox++) {
        const x0 = Math.max(0, ox * info.strideWidth - left);
        const x1 = Math.min(W, ox * info.strideWidth - left + fw);
        const q = ((n * OH + oy) * OW + ox) * C;
        if (y && fh === 3 && fw === 3 && y1 - y0 === 3 && x1 - x0 === 3) {
          // A whole 3×3 window (ResNet's pools, almost every window): the nine taps unrolled, in row-major
          // order, so the first one equal to the maximum wins as below. Half the time of the loop
          // (demo stem pool, 256²×16: ~9 -> ~4.5 ms in a micro-benchmark).
          const b = xBase + (y0 * W + x0) * C;
          for (let c = 0; c < C; c++) {
            const m = y[q + c];
            const p = b + c;
            const hit =
              x[p] === m ? p
              : x[p + C] === m ? p + C
              : x[p + 2 * C] === m ? p + 2 * C
              : x[p + row] === m ? p + row
              : x[p + row + C] === m ? p + row + C
              : x[p + row + 2 * C] === m ? p + row + 2 * C
              : x[p + 2 * row] === m ? p + 2 * row
              : x[p + 2 * row + C] === m ? p + 2 * row + C
              : x[p + 2 * row + 2 * C] === m ? p + 2 * row + 2 * C
              : -1;
            // no input equals the stored maximum (NaN in the window): the running maximum decides, as below
            const at = hit >= 0 ? hit : maxAt(x, p, 3, 3, C, row);
            if (at >= 0) dx[at] += g[q + c];
          }
          continue;
        }
        // Channel outermost, so the running maximum and its index stay in registers (twice as
        // fast as per-channel arrays updated across the window); ties resolve as before.
        for (let c = 0; c < C; c++) {
          if (y) {
            const m = y[q + c];
            let hit = -1;
            search: for (let yy = y0; yy < y1; yy++) {
              for (let p = xBase + (yy * W + x0) * C + c, e = p + (x1 - x0) * C; p < e; p += C) {
                if (x[p] === m) {
                  hit = p;
                  break search;
                }
              }
            }
            if (hit >= 0) {
              dx[hit] += g[q + c];
              continue;
            }
            // no input equals the stored maximum (NaN in the window): the running maximum below decides
          }
          let best = -Infinity;
          let at = -1;
          for (let yy = y0; yy < y1; yy++) {
            for (let p = xBase + (yy * W + x0) * C + c, e = p + (x1 - x0) * C; p < e; p += C) {
              const v = x[p];
              if (v > best) {
                best = v;
                at = p;
              }
            }
          }
          if (at >= 0) dx[at] += g[q + c];
        }
      }
    }
  }
  return out;
}

/**
 * Identity, and Cast to the same dtype, as a shared reference (refcount + 1), as tfjs' cpu and
 * webgl backends do; wasm's own kernels copy the buffer. The engine clones EVERY tensor a
 * gradient saves (saveTensorsForBackwardMode: x and filter of each conv, each ReLU input …) and
 * the tape casts each gradient through an identity: ~900 copies per guided-backprop pass of
 * ResNet50 (0.2–0.3 s at 512²). Sharing is safe because tensors are immutable (a variable
 * assignment moves to a new dataId) — and it keeps a saved filter on its variable's dataId, so
 * the derived-filter cache above can hit.
 */
function shareOrCopy(name: 'Identity' | 'Cast') {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): Info => {
    const { x } = args.inputs as { x: Info };
    const dtype = name === 'Cast' ? (args.attrs?.dtype as tf.DataType) : x.dtype;
    if (x.dtype === 'string' || dtype !== x.dtype) return callOriginal(name, args);
    (args.backend as unknown as WasmBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}
const identity = shareOrCopy('Identity');
const cast = shareOrCopy('Cast');

/** wasm's own kernels that ours replace, kept for the cases ours leave to them. */
const originals = new Map<string, tf.KernelConfig>();
/** (kernel name, backend) pairs whose original setupFunc has run */
const setUp = new WeakMap<object, Set<string>>();

/** Runs wasm's own `name` kernel (running its setupFunc once per backend first). */
function callOriginal(name: string, args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): Info {
  const k = originals.get(name);
  if (!k) throw new Error(`wasm ${name} kernel missing`);
  let done = setUp.get(args.backend);
  if (!done) setUp.set(args.backend, (done = new Set()));
  if (k.setupFunc && !done.has(name)) {
    k.setupFunc(args.backend);
    done.add(name);
  }
  return k.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as Info;
}

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
  if (!broadcast) return callOriginal('Tile', args);
  const s = new Scope(args.backend);
  const shape = x.shape.map((d, i) => d * reps[i]);
  const zeros = s.run('Fill', {}, { shape, value: 0, dtype: x.dtype });
  return s.finish(s.run('Add', { a: zeros, b: x }, {}));
}

const KERNELS: tf.KernelConfig[] = [
  { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc },
  { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc },
  { kernelName: 'Tile', backendName: 'wasm', kernelFunc: tile as unknown as tf.KernelFunc },
  { kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc: maxPoolGrad as unknown as tf.KernelFunc },
  { kernelName: 'Identity', backendName: 'wasm', kernelFunc: identity as unknown as tf.KernelFunc },
  { kernelName: 'Cast', backendName: 'wasm', kernelFunc: cast as unknown as tf.KernelFunc },
];

/**
 * Registers our Conv2DBackpropFilter / Conv2DBackpropInput, MaxPoolGrad (and a broadcast fast
 * path for Tile, which BatchNormalization's gradient uses) for the wasm backend, replacing wasm's
 * own Conv2DBackpropInput, MaxPoolGrad and Tile. Idempotent. `@tensorflow/tfjs-backend-wasm` must have been
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
    if (existing && replaced.has(k.kernelName) && !isWasmOriginal(k.kernelName, existing)) continue;
    if (existing) {
      // the first kernel we replace under a name is wasm's own (Identity and Cast have no setupFunc)
      if (!replaced.has(k.kernelName) || isWasmOriginal(k.kernelName, existing)) originals.set(k.kernelName, existing);
      tf.unregisterKernel(k.kernelName, 'wasm');
    }
    tf.registerKernel(k);
    replaced.add(k.kernelName);
  }
}

/** Kernel names we have registered at least once in this process. */
const replaced = new Set<string>();
/** wasm's own kernel: the one we replaced first, or one with a setupFunc (they cwrap into the wasm module; ours and wrappers of ours need none). */
function isWasmOriginal(name: string, k: tf.KernelConfig): boolean {
  if (originals.get(name)?.kernelFunc === k.kernelFunc) return true;
  return typeof k.setupFunc === 'function' && !KERNELS.some((o) => o.kernelFunc === k.kernelFunc);
}

/** True when our gradient kernels are the ones registered for wasm. */
export function wasmGradientKernelsRegistered(): boolean {
  return KERNELS.every((k) => tf.getKernel(k.kernelName, 'wasm')?.kernelFunc === k.kernelFunc);
}
