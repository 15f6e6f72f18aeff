/**
 * Small raster toolkit on typed arrays for the synthetic generator: planar float images,
 * O(1)-per-pixel Gaussian blur (three box passes), value noise and anti-aliased
 * thick line segments. Everything draws at the output size directly.
 */
import type { Rng } from './prng';

/** Planar float RGB image, values on the 0..255 scale (may exceed it before the camera stage). */
export interface Planes {
  width: number;
  height: number;
  r: Float32Array;
  g: Float32Array;
  b: Float32Array;
}

export function createPlanes(width: number, height: number): Planes {
  const n = width * height;
  return { width, height, r: new Float32Array(n), g: new Float32Array(n), b: new Float32Array(n) };
}

/** One horizontal + vertical box blur of radius r (window 2r+1), edges clamped. In place, uses tmp. */
function boxBlurH(src: Float32Array, dst: Float32Array, w: number, h: number, r: number): void {
  const inv = 1 / (2 * r + 1);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const first = src[row];
    const last = src[row + w - 1];
    let acc = r * first;
    for (let j = 0; j < r; j++) acc += src[row + Math.min(j, w - 1)];
    for (let x = 0; x < w; x++) {
      const add = x + r < w ? src[row + x + r] : last;
      acc += add;
      dst[row + x] = acc * inv;
      const rem = x - r >= 0 ? src[row + x - r] : first;
      acc -= rem;
    }
  }
}

function boxBlurV(src: Float32Array, dst: Float32Array, w: number, h: number, r: number, acc: Float64Array): void {
  // row-major streaming with one running sum per column: a column walk (stride w) thrashes the cache
  const inv = 1 / (2 * r + 1);
  const lastRow = (h - 1) * w;
  for (let x = 0; x < w; x++) acc[x] = r * src[x];
  for (let j = 0; j < r; j++) {
    const row = Math.min(j, h - 1) * w;
    for (let x = 0; x < w; x++) acc[x] += src[row + x];
  }
  for (let y = 0; y < h; y++) {
    const addRow = y + r < h ? (y + r) * w : lastRow;
    const remRow = y - r >= 0 ? (y - r) * w : 0;
    const out = y * w;
    for (let x = 0; x < w; x++) {
      const a = acc[x] + src[addRow + x];
      dst[out + x] = a * inv;
      acc[x] = a - src[remRow + x];
    }
  }
}

/** 3-tap [a, 1-2a, a] in both directions: exact variance 2a for sub-pixel sigmas. */
function tinyBlur(p: Float32Array, tmp: Float32Array, w: number, h: number, a: number): void {
  const c = 1 - 2 * a;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    tmp[row] = (c + a) * p[row] + a * p[row + Math.min(1, w - 1)];
    for (let x = 1; x < w - 1; x++) tmp[row + x] = c * p[row + x] + a * (p[row + x - 1] + p[row + x + 1]);
    if (w > 1) tmp[row + w - 1] = (c + a) * p[row + w - 1] + a * p[row + w - 2];
  }
  // vertical pass row by row (row-major streaming, see boxBlurV)
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const up = y > 0 ? row - w : row;
    const dn = y < h - 1 ? row + w : row;
    for (let x = 0; x < w; x++) p[row + x] = c * tmp[row + x] + a * (tmp[up + x] + tmp[dn + x]);
  }
}

/**
 * Approximate Gaussian blur of one plane in place. Sigmas below 0.8 px use an exact
 * 3-tap kernel; larger ones three box passes (Wells 1986), whose cost does not depend
 * on sigma, which is what keeps a heavy "ungradable" blur of a 3000 px photo cheap.
 */
export function gaussianBlur(p: Float32Array, w: number, h: number, sigma: number, tmp?: Float32Array): void {
  if (!(sigma > 0.05)) return;
  const t = tmp ?? new Float32Array(p.length);
  if (sigma < 0.8) {
    tinyBlur(p, t, w, h, (sigma * sigma) / 2);
    return;
  }
  // three boxes whose variances add up to sigma²: widths wl, wl+2 (Kovesi's "boxes for gauss")
  const n = 3;
  const wIdeal = Math.sqrt((12 * sigma * sigma) / n + 1);
  let wl = Math.floor(wIdeal);
  if (wl % 2 === 0) wl--;
  const wu = wl + 2;
  const m = Math.round((12 * sigma * sigma - n * wl * wl - 4 * n * wl - 3 * n) / (-4 * wl - 4));
  const acc = new Float64Array(w);
  for (let i = 0; i < n; i++) {
    const size = i < m ? wl : wu;
    const r = (size - 1) >> 1;
    if (r <= 0) continue;
    boxBlurH(p, t, w, h, r);
    boxBlurV(t, p, w, h, r, acc);
  }
}

export function blurPlanes(pl: Planes, sigma: number): void {
  const tmp = new Float32Array(pl.r.length);
  gaussianBlur(pl.r, pl.width, pl.height, sigma, tmp);
  gaussianBlur(pl.g, pl.width, pl.height, sigma, tmp);
  gaussianBlur(pl.b, pl.width, pl.height, sigma, tmp);
}

/** One octave of value noise: `cells` grid cells across the longer side, amplitude `amp`. */
export interface NoiseOctave {
  cells: number;
  amp: number;
}

/**
 * Smooth value noise, a sum of octaves each in [-amp, amp]: coarse random grids
 * interpolated with smoothstep, summed in one pass. A cheap stand-in for choroidal texture
 * and uneven illumination.
 */
export function valueNoise(w: number, h: number, octaves: NoiseOctave[], rng: Rng): Float32Array {
  const out = new Float32Array(w * h);
  for (const oct of octaves) {
    const step = Math.max(w, h) / Math.max(1, oct.cells);
    const gw = Math.ceil(w / step) + 2;
    const gh = Math.ceil(h / step) + 2;
    const grid = new Float32Array(gw * gh);
    for (let i = 0; i < grid.length; i++) grid[i] = (rng.next() * 2 - 1) * oct.amp;
    const cx = new Int32Array(w);
    const wx = new Float32Array(w);
    for (let x = 0; x < w; x++) {
      const fx = x / step;
      const ix = Math.floor(fx);
      const t = fx - ix;
      cx[x] = ix;
      wx[x] = t * t * (3 - 2 * t);
    }
    // interpolate the two grid rows once per image row, then blend rows per pixel
    const rowA = new Float32Array(w);
    const rowB = new Float32Array(w);
    let cached = -1;
    for (let y = 0; y < h; y++) {
      const fy = y / step;
      const iy = Math.floor(fy);
      let ty = fy - iy;
      ty = ty * ty * (3 - 2 * ty);
      if (iy !== cached) {
        const r0 = iy * gw;
        const r1 = r0 + gw;
        for (let x = 0; x < w; x++) {
          const ix = cx[x];
          const tx = wx[x];
          rowA[x] = grid[r0 + ix] + (grid[r0 + ix + 1] - grid[r0 + ix]) * tx;
          rowB[x] = grid[r1 + ix] + (grid[r1 + ix + 1] - grid[r1 + ix]) * tx;
        }
        cached = iy;
      }
      const row = y * w;
      for (let x = 0; x < w; x++) out[row + x] += rowA[x] + (rowB[x] - rowA[x]) * ty;
    }
  }
  return out;
}

/**
 * Draw a thick segment into a density map with max-compositing. The profile is that of a
 * cylinder seen from above (sqrt(1 - (d/hw)²)), anti-aliased over one pixel at the edge;
 * vessels thinner than a pixel keep their total absorption by lowering the opacity.
 * `reflex` > 0 carves a bright central light reflex (large arteries) out of the profile.
 */
export function drawSegment(
  map: Float32Array,
  w: number,
  h: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  halfWidth: number,
  opacity: number,
  reflex = 0,
): void {
  let hw = halfWidth;
  let op = opacity;
  if (hw < 0.6) {
    op *= hw / 0.6;
    hw = 0.6;
  }
  const pad = hw + 1.5;
  const minX = Math.max(0, Math.floor(Math.min(x0, x1) - pad));
  const maxX = Math.min(w - 1, Math.ceil(Math.max(x0, x1) + pad));
  const minY = Math.max(0, Math.floor(Math.min(y0, y1) - pad));
  const maxY = Math.min(h - 1, Math.ceil(Math.max(y0, y1) + pad));
  if (minX > maxX || minY > maxY) return;
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len2 = dx * dx + dy * dy || 1e-9;
  const invHw = 1 / hw;
  for (let y = minY; y <= maxY; y++) {
    const py = y + 0.5 - y0;
    const row = y * w;
    for (let x = minX; x <= maxX; x++) {
      const px = x + 0.5 - x0;
      let t = (px * dx + py * dy) / len2;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const ex = px - t * dx;
      const ey = py - t * dy;
      const d = Math.sqrt(ex * ex + ey * ey);
      if (d >= hw + 0.5) continue;
      const cover = hw + 0.5 - d > 1 ? 1 : hw + 0.5 - d;
      const q = d * invHw;
      let prof = q < 1 ? Math.sqrt(1 - q * q) : 0;
      prof = 0.35 + 0.65 * prof;
      if (reflex > 0 && q < 0.28) prof *= 1 - reflex * (1 - q / 0.28);
      const v = cover * prof * op;
      if (v > map[row + x]) map[row + x] = v;
    }
  }
}

export function clamp(v: number, a: number, b: number): number {
  return v < a ? a : v > b ? b : v;
}

export function smoothstep(e0: number, e1: number, x: number): number {
  const t = clamp((x - e0) / (e1 - e0), 0, 1);
  return t * t * (3 - 2 * t);
}
