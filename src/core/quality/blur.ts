/**
 * The gradability gate's Gaussian blurs (quality/measures.ts): at 512² they were most of the
 * gate's cost in JS.
 */
import { scratchSlot } from '../scratch';
import { withPhotoKernels } from '../simd/index';

const TMP = scratchSlot();

/** Normalised Gaussian taps, radius ⌈3σ⌉, as float32. */
export function gaussianKernel(sigma: number): Float32Array {
  const r = Math.ceil(3 * sigma);
  const k = new Float32Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) { k[i + r] = Math.exp((-i * i) / (2 * sigma * sigma)); s += k[i + r]; }
  for (let i = 0; i < k.length; i++) k[i] /= s;
  return k;
}

/**
 * Separable Gaussian blur of a W×H float image with clamped borders: along x (rounded to
 * float32), then along y, into `out` (a new array unless given; it must not be `src`). Runs in
 * WebAssembly SIMD where it can (simd/index.ts, ~10× faster); the loops below are its reference
 * and fallback, and give the same bits.
 */
export function gaussianBlur(src: Float32Array, W: number, H: number, sigma: number, out: Float32Array = new Float32Array(W * H)): Float32Array {
  const k = gaussianKernel(sigma);
  const fast = withPhotoKernels((kernels) => kernels.separable(src, W, H, k, out));
  if (fast) return fast;
  // The clamping is done only within `r` of the edges: each output is the same sum in the same
  // order as the plain clamped loop, so the values are bit-identical to it.
  const r = (k.length - 1) / 2;
  const tmp = TMP.f32(W * H);
  for (let y = 0; y < H; y++) {
    const row = y * W;
    for (let x = 0; x < W; x++) {
      let s = 0;
      if (x >= r && x < W - r) {
        const o = row + x - r;
        for (let i = 0; i <= 2 * r; i++) s += k[i] * src[o + i];
      } else {
        for (let i = -r; i <= r; i++) s += k[i + r] * src[row + Math.min(W - 1, Math.max(0, x + i))];
      }
      tmp[row + x] = s;
    }
  }
  for (let y = 0; y < H; y++) {
    const inner = y >= r && y < H - r;
    for (let x = 0; x < W; x++) {
      let s = 0;
      if (inner) {
        const o = (y - r) * W + x;
        for (let i = 0; i <= 2 * r; i++) s += k[i] * tmp[o + i * W];
      } else {
        for (let i = -r; i <= r; i++) s += k[i + r] * tmp[Math.min(H - 1, Math.max(0, y + i)) * W + x];
      }
      out[y * W + x] = s;
    }
  }
  return out;
}
