/**
 * A small WebAssembly SIMD module (heap-kernels.wat) instantiated on the wasm backend's own memory, so a kernel of
 * ours can work on tensors where they lie on tfjs' heap: MaxPoolGrad, and the copies of the strided input
 * gradient's phase interleave. Our photo kernels (simd/) have a memory of their own and
 * copy data in and out, which a gradient kernel cannot afford: MaxPoolGrad's input, maxima, dy and dx are ~10 MB
 * per call on the demo model's stem, as much copying as the JS pass costs.
 *
 * Used where it runs (tfjs-backend-wasm's single-threaded builds, whose memory is a plain WebAssembly.Memory);
 * elsewhere (the multi-threaded build's shared memory, a CSP without 'wasm-unsafe-eval', no SIMD) heapKernels()
 * returns null and the callers run their JS passes, which give the same bits (heap-kernels.test.ts).
 */
import { instantiateWasm } from '../wasm-module';
import { HEAP_KERNELS_WASM } from './heap-kernels.wasm';

/** The module's functions, on pointers into the backend's heap (byte offsets). */
export interface HeapKernels {
  /** heap-kernels.wat maxpool_grad: returns the number of channel groups with a NaN in their window (0: done) */
  maxpoolGrad(
    x: number, y: number, g: number, dx: number,
    N: number, H: number, W: number, C: number, OH: number, OW: number,
    sh: number, sw: number, fh: number, fw: number, top: number, left: number,
  ): number;
  /** heap-kernels.wat copy_blocks: `count` blocks of `bytes` (a multiple of 4) from src + i·srcStride to dst + i·dstStride */
  copyBlocks(dst: number, src: number, count: number, bytes: number, dstStride: number, srcStride: number): void;
}

/** The parts of tfjs-backend-wasm's Emscripten module that hold its memory (single-threaded: asm.memory). */
interface EmscriptenModule {
  asm?: { memory?: unknown };
  wasmMemory?: unknown;
}

let enabled = true;
const perBackend = new WeakMap<object, HeapKernels | null>();

/**
 * The kernels on `backend`'s memory (a tfjs-backend-wasm BackendWasm), or null where they cannot run there.
 * Instantiated once per backend; the module is compiled once per realm.
 */
export function heapKernels(backend: object): HeapKernels | null {
  if (!enabled) return null;
  let k = perBackend.get(backend);
  if (k === undefined) {
    k = instantiate(backend);
    perBackend.set(backend, k);
  }
  return k;
}

/**
 * Turns the kernels off (false) or back on, for this realm: tests and benchmarks run the JS passes with it. The
 * results do not change (same bits).
 * @internal
 */
export function setHeapKernelsEnabled(on: boolean): void {
  enabled = on;
}

function instantiate(backend: object): HeapKernels | null {
  const em = (backend as { wasm?: EmscriptenModule }).wasm;
  const memory = em?.asm?.memory ?? em?.wasmMemory;
  if (!memory) return null;
  // a shared memory (threaded build) does not link to the module's unshared import: null, so the JS passes
  const ex = instantiateWasm<{ maxpool_grad: HeapKernels['maxpoolGrad']; copy_blocks: HeapKernels['copyBlocks'] }>(HEAP_KERNELS_WASM, { env: { memory } });
  return ex ? { maxpoolGrad: ex.maxpool_grad, copyBlocks: ex.copy_blocks } : null;
}
