/**
 * Deterministic synthetic photos for tests and benchmarks of preprocessing and the quality
 * gate: a fundus-like disc (vignetted orange-red retina, vessels, optic disc, fine texture)
 * on a black surround with optional burnt-in "text", and non-fundus pictures. Pure
 * TypeScript so both core tests and the browser benchmark can draw them.
 */
import type { RgbImage } from '../types';

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticFundusOptions {
  width: number;
  height: number;
  cx: number;
  cy: number;
  r: number;
  /** draw white block "text" in the four corners (camera parameters, patient ID) */
  cornerText?: boolean;
  /** multiply the retina brightness (1 = normal) */
  brightness?: number;
  seed?: number;
  /** a small bright square at this photo position (for transform checks) */
  marker?: { x: number; y: number; size: number };
}

function clamp8(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

/** A fundus-like photo with a known FOV circle. */
export function syntheticFundus(o: SyntheticFundusOptions): RgbImage {
  const { width: W, height: H, cx, cy, r } = o;
  const k = o.brightness ?? 1;
  const rand = rng(o.seed ?? 1);
  const data = new Uint8Array(W * H * 3);
  // Vessels: a few sinusoidal arcs leaving the optic disc.
  const odx = cx + 0.35 * r, ody = cy - 0.05 * r, odr = 0.08 * r;
  const vessels = Array.from({ length: 6 }, (_, i) => ({ a0: (i / 6) * 2 * Math.PI + rand(), bend: (rand() - 0.5) * 0.8, w: 0.006 * r + rand() * 0.006 * r }));
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      const p = (y * W + x) * 3;
      // 1.5 px soft rim like a real camera aperture.
      const inside = Math.min(1, Math.max(0, (r - d) / 1.5 + 0.5));
      if (inside <= 0) {
        const n = rand() * 3;
        data[p] = n; data[p + 1] = n; data[p + 2] = n;
        continue;
      }
      const vig = 1 - 0.45 * (d / r) ** 2;
      let R = 200 * vig, G = 95 * vig, B = 35 * vig;
      const dod = Math.hypot(x - odx, y - ody);
      if (dod < odr) { R = 250; G = 200; B = 120; }
      // vessels: distance to a curved ray from the disc
      const ang = Math.atan2(y - ody, x - odx);
      const rad = Math.hypot(x - odx, y - ody);
      for (const v of vessels) {
        const target = v.a0 + v.bend * (rad / r);
        let da = ang - target;
        da = Math.atan2(Math.sin(da), Math.cos(da));
        if (rad > odr * 0.5 && Math.abs(da * rad) < v.w) { R *= 0.7; G *= 0.45; B *= 0.5; break; }
      }
      const tex = (rand() - 0.5) * 6 + 4 * Math.sin(x * 0.21) * Math.sin(y * 0.17);
      data[p] = clamp8((R + tex) * k * inside);
      data[p + 1] = clamp8((G + tex * 0.7) * k * inside);
      data[p + 2] = clamp8((B + tex * 0.3) * k * inside);
    }
  }
  if (o.cornerText) drawCornerText(data, W, H);
  if (o.marker) {
    const { x, y, size } = o.marker;
    for (let yy = Math.floor(y - size / 2); yy < Math.ceil(y + size / 2); yy++)
      for (let xx = Math.floor(x - size / 2); xx < Math.ceil(x + size / 2); xx++) {
        if (xx < 0 || yy < 0 || xx >= W || yy >= H) continue;
        const p = (yy * W + xx) * 3;
        data[p] = 255; data[p + 1] = 255; data[p + 2] = 255;
      }
  }
  return { width: W, height: H, channels: 3, data };
}

/** Blocky white "glyphs" in each corner, about 1/5 of the width wide. */
export function drawCornerText(data: Uint8Array, W: number, H: number): void {
  const gh = Math.max(6, Math.round(H * 0.03));
  const gw = Math.max(4, Math.round(gh * 0.6));
  const margin = Math.round(gh * 0.6);
  const lineLen = Math.max(3, Math.floor((W * 0.2) / (gw * 1.4)));
  const rand = rng(99);
  const corners: [number, number][] = [
    [margin, margin],
    [W - margin - lineLen * gw * 1.4, margin],
    [margin, H - margin - 2 * gh * 1.5],
    [W - margin - lineLen * gw * 1.4, H - margin - 2 * gh * 1.5],
  ];
  for (const [x0, y0] of corners) {
    for (let line = 0; line < 2; line++) {
      for (let c = 0; c < lineLen; c++) {
        const gx = Math.round(x0 + c * gw * 1.4), gy = Math.round(y0 + line * gh * 1.5);
        const bits = Math.floor(rand() * 0xffff) | 0x8421;
        for (let yy = 0; yy < gh; yy++)
          for (let xx = 0; xx < gw; xx++) {
            const cell = Math.floor((yy / gh) * 4) * 4 + Math.floor((xx / gw) * 4);
            if (!(bits & (1 << cell))) continue;
            const X = gx + xx, Y = gy + yy;
            if (X < 0 || Y < 0 || X >= W || Y >= H) continue;
            const p = (Y * W + X) * 3;
            data[p] = 235; data[p + 1] = 235; data[p + 2] = 235;
          }
      }
    }
  }
}

/** A photo-like "indoor scene": grey-world colours, smooth walls, objects, no dark border. */
export function syntheticIndoorScene(W: number, H: number, seed = 5): RgbImage {
  const rand = rng(seed);
  const data = new Uint8Array(W * H * 3);
  const boxes = Array.from({ length: 8 }, () => ({
    x: rand() * W, y: rand() * H, w: (0.1 + rand() * 0.3) * W, h: (0.1 + rand() * 0.3) * H,
    c: [60 + rand() * 160, 60 + rand() * 160, 60 + rand() * 160],
  }));
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const p = (y * W + x) * 3;
      // wall and floor, lit from the top left
      const light = 0.7 + 0.3 * (1 - (x / W + y / H) / 2);
      let c = y > H * 0.65 ? [120, 100, 80] : [170, 170, 160];
      for (const b of boxes) if (x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h) c = b.c;
      const n = (rand() - 0.5) * 8;
      data[p] = clamp8(c[0] * light + n);
      data[p + 1] = clamp8(c[1] * light + n);
      data[p + 2] = clamp8(c[2] * light + n);
    }
  return { width: W, height: H, channels: 3, data };
}

/** A black/white checkerboard of `cell`-pixel squares. */
export function checkerboard(W: number, H: number, cell: number): RgbImage {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const v = (Math.floor(x / cell) + Math.floor(y / cell)) % 2 ? 230 : 20;
      const p = (y * W + x) * 3;
      data[p] = v; data[p + 1] = v; data[p + 2] = v;
    }
  return { width: W, height: H, channels: 3, data };
}

/** A smooth left-to-right colour gradient. */
export function gradient(W: number, H: number): RgbImage {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const p = (y * W + x) * 3;
      data[p] = clamp8((255 * x) / W);
      data[p + 1] = clamp8((255 * y) / H);
      data[p + 2] = 128;
    }
  return { width: W, height: H, channels: 3, data };
}
