import { describe, expect, it } from 'vitest';
import { contours } from 'd3-contour';
import { rng } from '../preprocess/synthetic-photos';
import { inRing, isoPolygons, peakInside, simplifyRing, traceClassMap, traceOutlines } from './outlines';
import { classMapLattice, fovMaskOnGrid, sampleOnLattice, upsampleMap, warpMapToPhoto } from './geometry';
import type { FieldOfView, LabelMap, PhotoTransform } from '../types';

const S = 64;

/** Sum of isotropic Gaussians on the S×S model grid, centres given in continuous coordinates. */
function blobs(spec: { cx: number; cy: number; sigma: number; peak: number }[]): LabelMap {
  const data = new Float32Array(S * S);
  for (let j = 0; j < S; j++) {
    for (let i = 0; i < S; i++) {
      let v = 0;
      for (const b of spec) v += b.peak * Math.exp(-((i + 0.5 - b.cx) ** 2 + (j + 0.5 - b.cy) ** 2) / (2 * b.sigma ** 2));
      data[j * S + i] = v;
    }
  }
  return { label: 'hm', width: S, height: S, data };
}

/** Uniform noise averaged over 5×5 windows: ragged regions with holes and nested islands at levels near 0.5. */
function blurredNoise(rand: () => number, W: number, H: number): Float32Array {
  const raw = new Float32Array(W * H).map(() => rand());
  const values = new Float32Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      let s = 0, n = 0;
      for (let dy = -2; dy <= 2; dy++)
        for (let dx = -2; dx <= 2; dx++) {
          const yy = y + dy, xx = x + dx;
          if (yy >= 0 && yy < H && xx >= 0 && xx < W) { s += raw[yy * W + xx]; n++; }
        }
      values[y * W + x] = s / n;
    }
  return values;
}

/** Area centroid of a closed ring (robust to how many vertices simplification kept). */
function centroid(points: [number, number][]): [number, number] {
  let a = 0, sx = 0, sy = 0;
  for (let k = 0; k < points.length - 1; k++) {
    const [x0, y0] = points[k], [x1, y1] = points[k + 1];
    const c = x0 * y1 - x1 * y0;
    a += c;
    sx += (x0 + x1) * c;
    sy += (y0 + y1) * c;
  }
  return [sx / (3 * a), sy / (3 * a)];
}

// Non-identity: model pixel (u, v) -> photo (3u - 10, 3v + 25), photo 200×250 (crop + pad case).
const T: PhotoTransform = { inputSize: S, photoWidth: 200, photoHeight: 250, scale: 3, offsetX: -10, offsetY: 25 };

describe('traceOutlines', () => {
  it('two blobs -> two polygons at the right photo coordinates, area and score', () => {
    const map = blobs([
      { cx: 16, cy: 20, sigma: 3, peak: 1 },
      { cx: 44, cy: 40, sigma: 4, peak: 0.8 },
    ]);
    const outlines = traceOutlines(map, T, { threshold: 0.5 });
    expect(outlines).toHaveLength(2);
    // highest score first
    const [a, b] = outlines;
    expect(a.label).toBe('hm');
    expect(a.score).toBeGreaterThan(0.9);
    expect(b.score).toBeGreaterThan(0.7);
    expect(b.score).toBeLessThan(0.81);
    const [ax, ay] = centroid(a.points);
    expect(Math.abs(ax - (16 * 3 - 10))).toBeLessThan(1);
    expect(Math.abs(ay - (20 * 3 + 25))).toBeLessThan(1);
    const [bx, by] = centroid(b.points);
    expect(Math.abs(bx - (44 * 3 - 10))).toBeLessThan(1);
    expect(Math.abs(by - (40 * 3 + 25))).toBeLessThan(1);
    // Level 0.5 of the map's global peak (1.0): blob a's radius is sigma*sqrt(2 ln 2),
    // blob b (peak 0.8) is cut at 0.5/0.8 of its own peak: radius sigma*sqrt(2 ln 1.6).
    const ra = 3 * Math.sqrt(2 * Math.log(2)) * 3;
    const rb = 4 * Math.sqrt(2 * Math.log(1.6)) * 3;
    expect(a.area / (Math.PI * ra * ra)).toBeCloseTo(1, 1);
    expect(b.area / (Math.PI * rb * rb)).toBeCloseTo(1, 1);
    // every vertex lies in the photo
    for (const o of outlines) for (const [x, y] of o.points) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(200);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(250);
    }
  });

  it('threshold is relative to the peak: a higher level shrinks and finally drops the weak blob', () => {
    const map = blobs([
      { cx: 16, cy: 20, sigma: 3, peak: 1 },
      { cx: 44, cy: 40, sigma: 4, peak: 0.6 },
    ]);
    expect(traceOutlines(map, T, { threshold: 0.3 })).toHaveLength(2);
    const high = traceOutlines(map, T, { threshold: 0.7 });
    expect(high).toHaveLength(1);
    expect(centroid(high[0].points)[0]).toBeCloseTo(16 * 3 - 10, 0);
    // scaling the whole map does not change the outlines (relative threshold)
    const scaled = { ...map, data: map.data.map((v) => v * 0.01) };
    expect(traceOutlines(scaled, T, { threshold: 0.3 }).map((o) => o.area)).toEqual(
      traceOutlines(map, T, { threshold: 0.3 }).map((o) => o.area),
    );
  });

  it('drops specks below minArea and returns nothing for an all-zero map', () => {
    const map = blobs([
      { cx: 16, cy: 20, sigma: 6, peak: 1 },
      { cx: 50, cy: 50, sigma: 0.7, peak: 1 },
    ]);
    expect(traceOutlines(map, T, { minArea: 0 })).toHaveLength(2);
    expect(traceOutlines(map, T, { minArea: 0.005 })).toHaveLength(1);
    expect(traceOutlines({ label: 'ma', width: S, height: S, data: new Float32Array(S * S) }, T)).toEqual([]);
    expect(() => traceOutlines({ label: 'ma', width: S, height: S, data: new Float32Array(10) }, T)).toThrow(RangeError);
  });

  it('a mask removes everything outside it', () => {
    const map = blobs([
      { cx: 16, cy: 20, sigma: 3, peak: 1 },
      { cx: 44, cy: 40, sigma: 3, peak: 1 },
    ]);
    const mask = new Uint8Array(S * S);
    for (let j = 0; j < S; j++) for (let i = 32; i < S; i++) mask[j * S + i] = 1;
    const out = traceOutlines(map, T, { mask });
    expect(out).toHaveLength(1);
    expect(centroid(out[0].points)[0]).toBeCloseTo(44 * 3 - 10, 0);
  });
});

/** Distance from p to the closed polyline `ring` (photo pixels). */
function toRing(p: number[], ring: number[][]): number {
  let d = Infinity;
  for (let i = 0; i < ring.length; i++) {
    const a = ring[i], b = ring[(i + 1) % ring.length];
    const dx = b[0] - a[0], dy = b[1] - a[1], l = dx * dx + dy * dy;
    const t = l > 0 ? Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l)) : 0;
    d = Math.min(d, Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy));
  }
  return d;
}

describe('traceClassMap (a coarse class map traced on its lattice)', () => {
  const G = 16, M = 512;
  // photo 1600×1200, model pixel = 3 photo px, the FOV circle cut by the photo's top and bottom edges
  const TM: PhotoTransform = { inputSize: M, photoWidth: 1600, photoHeight: 1200, scale: 3, offsetX: 32, offsetY: -168 };
  const fov = { found: true, cx: 800, cy: 600, radius: 730, coverage: 0.6, circleVisibleFraction: 0.8 } as FieldOfView;
  /** Grad-CAM-like: a few Gaussian blobs on the 16² grid (cell centres at i + 0.5) */
  const blobMap = (seed: number): LabelMap => {
    const rand = rng(seed);
    const bl = Array.from({ length: 4 }, () => ({ x: rand() * G, y: rand() * G, s: 1 + 2 * rand(), p: 0.4 + 0.6 * rand() }));
    const data = new Float32Array(G * G);
    for (let j = 0; j < G; j++)
      for (let i = 0; i < G; i++) data[j * G + i] = bl.reduce((a, b) => a + b.p * Math.exp(-((i + 0.5 - b.x) ** 2 + (j + 0.5 - b.y) ** 2) / (2 * b.s ** 2)), 0);
    return { label: 'hex', width: G, height: G, data };
  };

  it("follows the outlines traced on the upsampled, FOV-masked model-grid map at the same level: inside the FOV and along its rim and the photo's edges", () => {
    let outlines = 0, rimPoints = 0;
    const inner: number[] = [];
    for (let seed = 1; seed <= 24; seed++) {
      const map = blobMap(seed);
      const got = traceClassMap(map, TM, { fov });
      // the model-grid trace at the level traceClassMap used: threshold × the lattice's peak inside the FOV
      const up = upsampleMap(map, M, fovMaskOnGrid(fov, TM, M));
      const L = classMapLattice(TM, G);
      const lat = sampleOnLattice(map), w = fovMaskOnGrid(fov, L, L.inputSize);
      let peakLattice = 0, peakGrid = 0;
      for (let i = 0; i < lat.length; i++) peakLattice = Math.max(peakLattice, lat[i] * w[i]);
      for (const v of up) peakGrid = Math.max(peakGrid, v);
      const ref = traceOutlines({ ...map, width: M, height: M, data: up }, TM, { threshold: (0.5 * peakLattice) / peakGrid });
      expect(got.length).toBe(ref.length);
      outlines += got.length;
      for (const o of got) {
        // its counterpart: the reference outline nearest to its first vertex
        const r = ref.reduce((best, q) => (toRing(o.points[0], q.points) < toRing(o.points[0], best.points) ? q : best));
        // the area between them, spread over the perimeter: the mean offset of the line, in model pixels (along the
        // rim the model grid's FOV mask puts the line up to half a pixel outside the circle, where it has its own)
        const perimeter = r.points.reduce((sum, p, i) => sum + Math.hypot(p[0] - r.points[(i + 1) % r.points.length][0], p[1] - r.points[(i + 1) % r.points.length][1]), 0);
        expect(Math.abs(o.area - r.area) / perimeter / TM.scale).toBeLessThan(0.5);
        for (const p of o.points) {
          const d = toRing(p, r.points) / TM.scale; // model pixels
          const rim = Math.hypot(p[0] - fov.cx, p[1] - fov.cy) > fov.radius - 3 * TM.scale || p[1] < 3 * TM.scale || p[1] > TM.photoHeight - 3 * TM.scale;
          if (rim) {
            rimPoints++;
            expect(d).toBeLessThan(1.5);
          } else inner.push(d);
        }
      }
    }
    inner.sort((a, b) => a - b);
    // both are simplified to 0.15 model px and rounded to 0.1 photo px
    expect(inner[Math.floor(inner.length / 2)]).toBeLessThan(0.15);
    expect(inner.at(-1)!).toBeLessThan(1.5);
    expect(outlines).toBeGreaterThan(40);
    expect(rimPoints).toBeGreaterThan(100);
  });

  it('scores an outline by the surface at its peak cell: the cell value itself, not the model grid\'s half-pixel-off samples', () => {
    const map = blobMap(5);
    let max = 0, at = 0;
    map.data.forEach((v, i) => { if (v > max) { max = v; at = i; } });
    // keep the peak cell well inside the FOV for this check
    const centred: FieldOfView = { ...fov, cx: TM.offsetX + ((at % G) + 0.5) * 32 * TM.scale, cy: TM.offsetY + (Math.floor(at / G) + 0.5) * 32 * TM.scale, radius: 2000 };
    const got = traceClassMap(map, TM, { fov: centred });
    expect(got[0].score).toBeCloseTo(max, 6);
    const onGrid = traceOutlines({ ...map, width: M, height: M, data: upsampleMap(map, M) }, TM);
    expect(onGrid[0].score).toBeLessThan(max);
  });

  it("puts the edge of a region that the FOV cuts on the circle, and one cut by the photo's top edge on that edge", () => {
    // one wide blob in the top-left quarter, cut by the circle and by the photo's top edge (model y = 56)
    const data = new Float32Array(G * G);
    for (let j = 0; j < G; j++) for (let i = 0; i < G; i++) data[j * G + i] = Math.exp(-((i + 0.5 - 3) ** 2 + (j + 0.5 - 2) ** 2) / 18);
    const got = traceClassMap({ label: 'hex', width: G, height: G, data }, TM, { fov, threshold: 0.2 });
    expect(got.length).toBeGreaterThan(0);
    let onCircle = 0, onEdge = 0;
    for (const o of got)
      for (const [x, y] of o.points) {
        const r = Math.hypot(x - fov.cx, y - fov.cy);
        expect(r).toBeLessThanOrEqual(fov.radius + 0.5 * TM.scale);
        expect(y).toBeGreaterThanOrEqual(0);
        if (Math.abs(r - fov.radius) < 0.2 * TM.scale) onCircle++;
        if (y < 0.2 * TM.scale) onEdge++;
      }
    expect(onCircle).toBeGreaterThan(3);
    expect(onEdge).toBeGreaterThan(1);
  });

  it('applies smooth lattice weights (the disc) like a mask, and refuses weights off the lattice', () => {
    const map = blobMap(9);
    const n = classMapLattice(TM, G).inputSize;
    const zero = new Float32Array(n * n);
    expect(traceClassMap(map, TM, { fov, mask: zero })).toEqual([]);
    const half = new Float32Array(n * n).fill(0.5);
    // a uniform weight changes nothing but the scores
    const plain = traceClassMap(map, TM, { fov });
    const halved = traceClassMap(map, TM, { fov, mask: half });
    expect(halved.map((o) => o.points)).toEqual(plain.map((o) => o.points));
    halved.forEach((o, i) => expect(o.score).toBeCloseTo(plain[i].score / 2, 6));
    expect(() => traceClassMap(map, TM, { mask: new Float32Array(10) })).toThrow(RangeError);
  });
});

describe('isoPolygons (d3-contour on the box of the cells above the level)', () => {
  it("gives d3's whole-grid polygons: the same rings, holes and vertex order, vertices within 1e-9", () => {
    const rand = rng(5);
    const W = 90, H = 70;
    let cropped = 0, whole = 0, holes = 0;
    const maps: Float32Array[] = [];
    for (let trial = 0; trial < 3; trial++) {
      // blurred noise (ragged regions, holes, islands), then the same with everything but one corner zeroed, so
      // the box is small and touches the grid's border
      const values = blurredNoise(rand, W, H);
      maps.push(values, values.map((v, i) => ((i % W) > W - 20 && i < 25 * W ? v : 0)));
    }
    // one interior blob, and a pixel exactly at the level (its ring collapses onto the pixel centre)
    maps.push(blobs([{ cx: 40, cy: 30, sigma: 4, peak: 1 }]).data.slice(0, W * H));
    const spike = new Float32Array(W * H);
    spike[30 * W + 50] = 0.5;
    spike[31 * W + 50] = 0.7;
    maps.push(spike);
    for (const values of maps) {
      for (const level of [0.45, 0.5, 0.55]) {
        const [ref] = contours().size([W, H]).thresholds([level])(values as unknown as number[]);
        const got = isoPolygons(values, W, H, level);
        const refRings = ref.coordinates as number[][][][];
        expect(got.length).toBe(refRings.length);
        // the cells at or above the level: does their box (grown by one) leave out part of the grid?
        let x0 = W, x1 = -1, y0 = H, y1 = -1;
        values.forEach((v, i) => {
          if (v < level) return;
          x0 = Math.min(x0, i % W); x1 = Math.max(x1, i % W);
          y0 = Math.min(y0, Math.floor(i / W)); y1 = Math.max(y1, Math.floor(i / W));
        });
        if (x1 >= 0) (x0 > 1 || y0 > 1 || x1 < W - 2 || y1 < H - 2 ? cropped++ : whole++);
        refRings.forEach((polygon, p) => {
          expect(got[p].length).toBe(polygon.length);
          if (polygon.length > 1) holes++;
          polygon.forEach((ring, r) => {
            expect(got[p][r].length).toBe(ring.length);
            ring.forEach(([x, y], k) => {
              expect(Math.abs(got[p][r][k][0] - x)).toBeLessThan(1e-9);
              expect(Math.abs(got[p][r][k][1] - y)).toBeLessThan(1e-9);
            });
          });
        });
      }
    }
    expect(cropped).toBeGreaterThan(10);
    expect(whole).toBeGreaterThan(2);
    expect(holes).toBeGreaterThan(3);
  });
});

describe('peakInside', () => {
  /** the per-pixel definition: every pixel centre tested with inRing */
  function bruteForce(values: Float32Array, width: number, height: number, outer: number[][], holes: number[][][]): number {
    let best = -Infinity;
    for (let j = 0; j < height; j++)
      for (let i = 0; i < width; i++) {
        const cx = i + 0.5, cy = j + 0.5;
        if (inRing(outer, cx, cy) && !holes.some((h) => inRing(h, cx, cy)) && values[j * width + i] > best) best = values[j * width + i];
      }
    return best;
  }

  it('equals the per-pixel even-odd test on the contours of random maps, holes included', () => {
    const rand = rng(21);
    const W = 96, H = 80;
    let polygons = 0, withHoles = 0;
    for (let trial = 0; trial < 4; trial++) {
      // blurred noise: blobs with holes, nested islands and ragged borders
      const values = blurredNoise(rand, W, H);
      for (const level of [0.45, 0.5, 0.55]) {
        const [multi] = contours().size([W, H]).thresholds([level])(values as unknown as number[]);
        for (const polygon of multi.coordinates) {
          const [outer, ...holes] = polygon as number[][][];
          polygons++;
          if (holes.length) withHoles++;
          expect(peakInside(values, W, outer, holes)).toBe(bruteForce(values, W, H, outer, holes));
        }
      }
    }
    expect(polygons).toBeGreaterThan(30);
    expect(withHoles).toBeGreaterThan(3);
  });

  it('leaves out an island inside a hole, and decides pixel centres that lie exactly on the line as inRing does', () => {
    const W = 64, H = 64;
    // an annulus at 0.6 around a hole holding an island at 1.0; blocks of whole pixels with
    // levels at their values put contour vertices exactly on pixel centres
    const values = new Float32Array(W * H);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const d = Math.max(Math.abs(x - 32), Math.abs(y - 32));
        values[y * W + x] = d <= 3 ? 1 : d >= 10 && d <= 20 ? 0.6 : d === 21 && x % 3 === 0 ? 0.3 : 0;
      }
    let checked = 0;
    for (const level of [0.5, 0.6, 0.3, 0.15, 1]) {
      const [multi] = contours().size([W, H]).thresholds([level])(values as unknown as number[]);
      for (const polygon of multi.coordinates) {
        const [outer, ...holes] = polygon as number[][][];
        expect(peakInside(values, W, outer, holes)).toBe(bruteForce(values, W, H, outer, holes));
        checked++;
      }
    }
    const [annulus] = contours().size([W, H]).thresholds([0.5])(values as unknown as number[]);
    const ring = annulus.coordinates.find((p) => p.length > 1) as number[][][];
    expect(peakInside(values, W, ring[0], ring.slice(1))).toBeCloseTo(0.6, 6);
    expect(checked).toBeGreaterThan(5);
    // vertical edges through the centres of columns 2 and 6: inRing counts column 2 in, column 6 out
    const W2 = 10, H2 = 8;
    const grid = new Float32Array(W2 * H2).fill(0.1);
    for (let y = 0; y < H2; y++) { grid[y * W2 + 2] = 0.9; grid[y * W2 + 6] = 0.95; }
    const square = [[2.5, 1], [6.5, 1], [6.5, 5], [2.5, 5], [2.5, 1]];
    expect(bruteForce(grid, W2, H2, square, [])).toBe(Math.fround(0.9));
    expect(peakInside(grid, W2, square, [])).toBe(Math.fround(0.9));
  });
});

describe('simplifyRing', () => {
  it('drops collinear vertices, keeps corners and closure', () => {
    const ring: number[][] = [];
    for (let i = 0; i <= 10; i++) ring.push([i, 0]);
    for (let j = 1; j <= 10; j++) ring.push([10, j]);
    for (let i = 9; i >= 0; i--) ring.push([i, 10]);
    for (let j = 9; j >= 0; j--) ring.push([0, j]);
    const s = simplifyRing(ring, 0.3);
    expect(s).toEqual([[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]);
    // a tolerance of 0 keeps everything
    expect(simplifyRing(ring, 0)).toHaveLength(ring.length);
  });

  it('simplified outlines keep their area within 2% and have far fewer vertices', () => {
    const map = blobs([{ cx: 30, cy: 30, sigma: 8, peak: 1 }]);
    const raw = traceOutlines(map, T, { simplify: 0 })[0];
    const simple = traceOutlines(map, T)[0];
    expect(simple.points.length).toBeLessThan(raw.points.length / 2);
    expect(Math.abs(simple.area / raw.area - 1)).toBeLessThan(0.02);
  });
});

describe('geometry', () => {
  it('fovMaskOnGrid keeps the circle inside the photo, with a soft rim', () => {
    const fov: FieldOfView = { found: true, cx: 86, cy: 145, radius: 60, bbox: [26, 85, 146, 205], circleVisibleFraction: 1, coverage: 0.2 };
    const mask = fovMaskOnGrid(fov, T);
    // centre of the FOV in model pixels: ((86+10)/3, (145-25)/3) = (32, 40)
    expect(mask[40 * S + 32]).toBe(1);
    expect(mask[0]).toBe(0);
    let n = 0;
    for (const m of mask) {
      expect(m).toBeGreaterThanOrEqual(0);
      expect(m).toBeLessThanOrEqual(1);
      n += m;
    }
    expect(mask.some((m) => m > 0 && m < 1)).toBe(true);
    expect(n).toBeGreaterThan(Math.PI * 20 * 20 * 0.95);
    expect(n).toBeLessThan(Math.PI * 20 * 20 * 1.05);
  });

  it('warpMapToPhoto puts the map peak at the transformed photo position', () => {
    const map = blobs([{ cx: 16.5, cy: 20.5, sigma: 2, peak: 1 }]);
    const grey = warpMapToPhoto(map, T);
    expect(grey.length).toBe(200 * 250);
    let best = 0, bi = 0;
    for (let i = 0; i < grey.length; i++) if (grey[i] > best) { best = grey[i]; bi = i; }
    const x = (bi % 200) + 0.5, y = Math.floor(bi / 200) + 0.5;
    expect(Math.abs(x - (16.5 * 3 - 10))).toBeLessThanOrEqual(1.5);
    expect(Math.abs(y - (20.5 * 3 + 25))).toBeLessThanOrEqual(1.5);
    expect(best).toBeGreaterThan(250);
    // photo rows above the model square (y < 25) are zero
    expect(grey.slice(0, 200 * 24).every((v) => v === 0)).toBe(true);
  });
});
