/**
 * Convolution cases shared by the gradient-kernel tests (not shipped code: only *.test.ts import this).
 */
import { rng } from '../preprocess/synthetic-photos';

export function randArray(r: () => number, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * 2 - 1;
  return a;
}

/** max |a − b| / max |b|: the relative error of a whole gradient tensor. */
export function relErr(a: Float32Array | Int32Array | Uint8Array, b: Float32Array | Int32Array | Uint8Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

export type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
export interface Case {
  b: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  kh: number;
  kw: number;
  strides: [number, number];
  pad: Pad;
}

/** Fixed edge cases plus seeded random ones: strides 1–3, kernels 1–7, same/valid/explicit pads. */
export function cases(): Case[] {
  const fixed: Case[] = [
    { b: 1, h: 32, w: 32, ci: 3, co: 8, kh: 7, kw: 7, strides: [2, 2], pad: 'same' }, // ResNet stem
    { b: 2, h: 16, w: 16, ci: 8, co: 16, kh: 1, kw: 1, strides: [2, 2], pad: 'same' }, // projection shortcut
    { b: 2, h: 15, w: 13, ci: 4, co: 6, kh: 3, kw: 3, strides: [2, 2], pad: 'same' }, // odd sizes
    { b: 1, h: 9, w: 11, ci: 2, co: 3, kh: 3, kw: 5, strides: [1, 2], pad: 'valid' }, // non-square
    { b: 3, h: 8, w: 8, ci: 5, co: 4, kh: 3, kw: 3, strides: [1, 1], pad: 1 }, // explicit number
    { b: 1, h: 10, w: 7, ci: 3, co: 2, kh: 3, kw: 2, strides: [2, 1], pad: [[0, 0], [2, 1], [0, 3], [0, 0]] }, // asymmetric explicit
    { b: 1, h: 12, w: 12, ci: 1, co: 1, kh: 5, kw: 5, strides: [3, 3], pad: 'valid' }, // stride > 2, leftover rows
    { b: 2, h: 6, w: 6, ci: 4, co: 4, kh: 7, kw: 7, strides: [1, 1], pad: 'same' }, // kernel larger than input
    // wide enough (ci·sh·sw > 64) for one convolution per phase instead of the combined filter
    { b: 1, h: 9, w: 9, ci: 20, co: 6, kh: 3, kw: 3, strides: [2, 2], pad: 'same' }, // ResNet50 v1.5 strided 3×3
    { b: 2, h: 8, w: 7, ci: 17, co: 5, kh: 1, kw: 1, strides: [2, 2], pad: 'same' }, // strided 1×1 shortcut (zero phases)
    { b: 1, h: 11, w: 10, ci: 12, co: 4, kh: 5, kw: 2, strides: [3, 2], pad: 'valid' }, // phases with 2/1/0 taps
    { b: 1, h: 10, w: 10, ci: 9, co: 3, kh: 1, kw: 1, strides: [3, 3], pad: 'valid' }, // 1×1 stride 3, leftover rows
    { b: 1, h: 7, w: 9, ci: 33, co: 7, kh: 1, kw: 1, strides: [1, 1], pad: 'same' }, // 1×1 stride 1: a GEMM
    { b: 1, h: 10, w: 9, ci: 8, co: 3, kh: 2, kw: 2, strides: [3, 3], pad: 'same' }, // some phases without taps, not only (0, 0)
    // equal strides with different top and left padding (the phase rewrite crops them separately)
    { b: 1, h: 11, w: 9, ci: 3, co: 4, kh: 3, kw: 2, strides: [2, 2], pad: 'same' },
    { b: 2, h: 10, w: 8, ci: 2, co: 3, kh: 3, kw: 3, strides: [2, 2], pad: [[0, 0], [2, 0], [0, 1], [0, 0]] },
  ];
  const r = rng(42);
  const pick = <T,>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const random: Case[] = [];
  for (let i = 0; i < 24; i++) {
    const kh = pick([1, 2, 3, 4, 5, 7]);
    const pad: Pad = pick<Pad>(['same', 'valid', Math.floor(r() * 3)]);
    // tfjs 4.22 sizes the output of a numeric pad with the filter height and stride of the
    // HEIGHT axis on both axes, so other shapes get a wrong output size (and wasm's forward
    // conv then writes out of bounds): a tfjs forward limitation, not ours; numeric pads get
    // square kernels and equal strides here
    const num = typeof pad === 'number';
    const kw = num || r() < 0.7 ? kh : pick([1, 2, 3, 5]);
    const sh = pick([1, 2, 3]);
    const sw = num || r() < 0.7 ? sh : pick([1, 2]);
    const h = Math.max(kh, 4 + Math.floor(r() * 14));
    const w = Math.max(kw, 4 + Math.floor(r() * 14));
    // likewise a numeric pad gives a fractional output size unless (in − k + 2p) divides by the stride
    const ok = (n: number, k: number, st: number) => typeof pad !== 'number' || (n - k + 2 * pad) % st === 0;
    const st = ok(h, kh, sh) && ok(w, kw, sw) ? sh : 1;
    const strides: [number, number] = num ? [st, st] : [sh, sw];
    random.push({ b: 1 + Math.floor(r() * 3), h, w, ci: 1 + Math.floor(r() * 7), co: 1 + Math.floor(r() * 7), kh, kw, strides, pad });
  }
  return [...fixed, ...random];
}

