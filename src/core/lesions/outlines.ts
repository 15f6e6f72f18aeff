/**
 * Lesion outlines from per-label explanation maps.
 *
 * Jiang et al. (paper §III, Fig. 6c): "through basic image processing methods, such as
 * threshold segmentation and edge detection, we can point out the lesions using irregular
 * solid line with different colors". Here: threshold the map relative to its own peak,
 * trace iso-lines with marching squares (d3-contour, which interpolates between pixel
 * centres, so the line is smooth rather than a staircase), drop specks, and move every
 * vertex from model-input pixels to original-photo pixels with the preprocessing transform.
 */
import { contours } from 'd3-contour';
import { scratchSlot } from '../scratch';
import { CLASS_MAP_LATTICE, classMapLattice, sampleOnLattice } from './geometry';
import type { FieldOfView, LabelMap, Outline, PhotoTransform } from '../types';

/** traceOutlines' masked copy of a map, and the part of it that is traced (scratch.ts) */
const MASKED = scratchSlot(), CROP = scratchSlot();
/** traceClassMap's samples of a class map on its lattice (scratch.ts) */
const LATTICE = scratchSlot(), LATTICE_DIST = scratchSlot(), LATTICE_SEEN = scratchSlot(), LATTICE_INSIDE = scratchSlot();

/** Options for {@link traceOutlines}. */
export interface OutlineOptions {
  /**
   * Iso-level as a fraction of the map's peak (0..1, default 0.5): pixels whose value is at
   * least `threshold * peak` are inside. Relative, because Grad-CAM magnitudes are not
   * comparable between photos or labels, but the shape of the map around its peak is.
   */
  threshold?: number;
  /**
   * Smallest outline kept, as a fraction of the model-input area (default 0.0005, i.e.
   * ~131 px² at 512²). Expressed on the model grid so the same setting works for any photo
   * resolution; Grad-CAM is 32× coarser than the input, so smaller blobs are interpolation noise.
   */
  minArea?: number;
  /**
   * Optional weights 0..1 on the map grid (row-major, width*height) multiplied into the map
   * before tracing, e.g. the field of view (geometry.fovMaskOnGrid), so nothing is outlined
   * on the black border.
   */
  mask?: ArrayLike<number>;
  /**
   * Douglas–Peucker tolerance in model-input pixels (default 0.15): marching squares emits a
   * vertex per pixel edge; dropping near-collinear ones shrinks results.jsonl several-fold while
   * moving the line by well under a pixel of the map.
   */
  simplify?: number;
  /** Most outlines returned per map, highest score first (default 20). */
  maxOutlines?: number;
}

export const DEFAULT_OUTLINE_THRESHOLD = 0.5;
export const DEFAULT_MIN_OUTLINE_AREA = 0.0005;

type Ring = number[][];

/** Signed shoelace area; the sign depends on the winding, callers take |.|. */
function ringArea(ring: ArrayLike<ArrayLike<number>>): number {
  let a = 0;
  for (let i = 0, n = ring.length, j = n - 1; i < n; j = i++) {
    a += (ring[j][0] + ring[i][0]) * (ring[j][1] - ring[i][1]);
  }
  return a / 2;
}

/** Even-odd point-in-polygon test (a ring of [x, y] points, closed implicitly). */
export function inRing(ring: Ring, x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, n = ring.length, j = n - 1; i < n; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * Where a horizontal line at height y crosses a ring, sorted: the x that {@link inRing}
 * compares a point against, edge by edge (the same expression, so the same bits).
 */
function crossings(ring: Ring, y: number, out: Float64Array): number {
  let n = 0;
  for (let i = 0, m = ring.length, j = m - 1; i < m; j = i++) {
    const pi = ring[i], pj = ring[j];
    const xi = pi[0], yi = pi[1], xj = pj[0], yj = pj[1];
    if (yi > y !== yj > y) out[n++] = ((xj - xi) * (y - yi)) / (yj - yi) + xi;
  }
  out.subarray(0, n).sort();
  return n;
}

/**
 * Peak map value over the pixels whose centres fall inside `outer` but not in any hole, by
 * scanlines: per row, a pixel centre is inside a ring when an odd number of the ring's
 * crossings lie to its right, which is inRing's even-odd test. A test per pixel cost
 * O(area × perimeter) and boxed a pair per vertex visit (60 MB of garbage per analysis).
 */
export function peakInside(values: Float32Array, width: number, outer: Ring, holes: Ring[]): number {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [x, y] of outer) {
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  let best = -Infinity;
  const rings = [outer, ...holes];
  const xs = rings.map((r) => new Float64Array(r.length));
  const counts = new Int32Array(rings.length);
  const next = new Int32Array(rings.length);
  const i0 = Math.max(0, Math.floor(x0 - 0.5)), i1 = Math.ceil(x1 - 0.5);
  // Pixel i's centre is at i + 0.5 in d3-contour's (and PhotoTransform's) convention.
  for (let j = Math.max(0, Math.floor(y0 - 0.5)); j <= Math.ceil(y1 - 0.5); j++) {
    const cy = j + 0.5;
    for (let r = 0; r < rings.length; r++) {
      counts[r] = crossings(rings[r], cy, xs[r]);
      next[r] = 0;
    }
    for (let i = i0; i <= i1; i++) {
      const cx = i + 0.5;
      // crossings at or left of cx no longer count: inRing toggles only for cx < crossing
      let inside = true;
      for (let r = 0; r < rings.length; r++) {
        const row = xs[r];
        let k = next[r];
        while (k < counts[r] && row[k] <= cx) k++;
        next[r] = k;
        const odd = ((counts[r] - k) & 1) === 1;
        if (r === 0 ? !odd : odd) inside = false;
      }
      if (!inside) continue;
      const v = values[j * width + i];
      if (v === undefined || v <= best) continue;
      best = v;
    }
  }
  return best;
}

const round1 = (v: number): number => Math.round(v * 10) / 10;

/** Perpendicular distance² of p from segment ab. */
function segDist2(p: number[], a: number[], b: number[]): number {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const l2 = dx * dx + dy * dy;
  let t = l2 > 0 ? ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2 : 0;
  t = Math.max(0, Math.min(1, t));
  const ex = a[0] + t * dx - p[0], ey = a[1] + t * dy - p[1];
  return ex * ex + ey * ey;
}

/** Douglas–Peucker on a closed ring (first point == last point); keeps the ring closed. */
export function simplifyRing(ring: Ring, tolerance: number): Ring {
  if (tolerance <= 0 || ring.length <= 4) return ring;
  const tol2 = tolerance * tolerance;
  // Split the closed ring at the vertex farthest from the start so both halves are open polylines.
  let far = 0, best = -1;
  for (let i = 1; i < ring.length - 1; i++) {
    const d = (ring[i][0] - ring[0][0]) ** 2 + (ring[i][1] - ring[0][1]) ** 2;
    if (d > best) { best = d; far = i; }
  }
  const keep = new Uint8Array(ring.length);
  keep[0] = keep[far] = keep[ring.length - 1] = 1;
  const stack: [number, number][] = [[0, far], [far, ring.length - 1]];
  while (stack.length) {
    const [a, b] = stack.pop()!;
    let idx = -1, dmax = tol2;
    for (let i = a + 1; i < b; i++) {
      const d = segDist2(ring[i], ring[a], ring[b]);
      if (d > dmax) { dmax = d; idx = i; }
    }
    if (idx >= 0) {
      keep[idx] = 1;
      stack.push([a, idx], [idx, b]);
    }
  }
  return ring.filter((_, i) => keep[i]);
}

/** The cells at or above `level`, with a one-cell margin (clipped to the grid); null when there are none. */
function regionBox(values: Float32Array, width: number, height: number, level: number): { x0: number; y0: number; w: number; h: number } | null {
  let x0 = width, x1 = -1, y0 = height, y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let first = -1, last = -1;
    for (let x = 0; x < width; x++) {
      if (values[row + x] >= level) {
        if (first < 0) first = x;
        last = x;
      }
    }
    if (first < 0) continue;
    if (y0 > y) y0 = y;
    y1 = y;
    if (first < x0) x0 = first;
    if (last > x1) x1 = last;
  }
  if (x1 < 0) return null;
  x0 = Math.max(0, x0 - 1);
  y0 = Math.max(0, y0 - 1);
  x1 = Math.min(width - 1, x1 + 1);
  y1 = Math.min(height - 1, y1 + 1);
  return { x0, y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/**
 * d3-contour's polygons of `values` at `level`, traced on the bounding box of the cells at or above the level
 * grown by one cell: d3 visits every cell of the grid it is given (~2 ms a map at 512², allocating as it goes), and a
 * map's regions above half its peak usually cover a fraction of the grid. The box's border cells are below the
 * level (or on the grid's own border), so its rings are the whole grid's rings, shifted by the box's corner; the
 * shift is an integer, so a vertex can differ from the whole grid's trace only in its last bit (1e-13 px), far
 * below the 0.1 px the outlines are rounded to.
 * @internal exported for its test
 */
export function isoPolygons(values: Float32Array, width: number, height: number, level: number): Ring[][] {
  const box = regionBox(values, width, height, level);
  if (!box) return [];
  const { x0, y0, w, h } = box;
  // d3-contour wants a plain number array-like; Float32Array works and avoids a copy.
  if (w === width && h === height) return contours().size([width, height]).thresholds([level])(values as unknown as number[])[0].coordinates as Ring[][];
  const crop = CROP.f32(w * h);
  for (let y = 0; y < h; y++) crop.set(values.subarray((y0 + y) * width + x0, (y0 + y) * width + x0 + w), y * w);
  const [multi] = contours().size([w, h]).thresholds([level])(crop as unknown as number[]);
  return (multi.coordinates as Ring[][]).map((polygon) => polygon.map((ring) => ring.map(([x, y]) => [x + x0, y + y0])));
}

/**
 * Traces the outlines of one label's map and returns them in ORIGINAL-PHOTO pixels.
 *
 * Each connected region at or above `threshold * peak` becomes one closed ring (holes are
 * dropped: the overlay draws the outer boundary only). `area` is the ring's area in photo
 * pixels² after clipping to the photo, `score` the highest map value inside (0..1 when the
 * map is normalised). Vertices are rounded to 0.1 px.
 *
 * @param map values on the model-input grid (see {@link LabelMap}); not modified.
 * @param transform model-input -> photo transform from preprocessing.
 */
export function traceOutlines(map: LabelMap, transform: PhotoTransform, options: OutlineOptions = {}): Outline[] {
  const { width, height } = map;
  if (map.data.length !== width * height) throw new RangeError(`map data length ${map.data.length} != ${width}x${height}`);
  const mask = options.mask;
  if (mask && mask.length !== width * height) throw new RangeError('mask size differs from the map');
  let values = map.data;
  if (mask) {
    // the masked copy lives only in this call (scratch.ts)
    values = MASKED.f32(values.length);
    for (let i = 0; i < values.length; i++) values[i] = map.data[i] * mask[i];
  }
  return traceGrid(values, width, height, map.label, transform, options, (options.minArea ?? DEFAULT_MIN_OUTLINE_AREA) * width * height);
}

/** Options for {@link traceClassMap}: those of {@link traceOutlines}, with `mask` on the map's lattice. */
export interface ClassMapOutlineOptions extends OutlineOptions {
  /**
   * smooth weights 0..1 at the lattice points (lesions/classMapLattice), e.g. discExclusionWeights(disc, lattice):
   * multiplied into the map like traceOutlines' `mask`. The field of view is NOT given here but as `fov`.
   */
  mask?: Float32Array;
  /**
   * the field of view: nothing is outlined outside its circle or off the photo. Where a region meets them, its
   * outline runs on the circle and the photo's edge themselves (found exactly on each lattice edge), as the FOV mask
   * multiplied into a model-grid map puts it (within the mask's half-pixel rim).
   */
  fov?: FieldOfView;
}

/**
 * {@link traceOutlines} for a class map on its coarse grid (Grad-CAM's 16² for a 512² input), without upsampling it to
 * the model grid first. The drawn map is the bilinear surface of lesions/upsampleMap sampled at the model grid's
 * pixel centres; here the same surface is sampled on its lattice (lesions/classMapLattice: 8 points per cell, 4 model
 * pixels apart at 16² → 512², every cell centre among them) and traced there, 16 times fewer points. Exact where it
 * matters:
 * - along a lattice edge the surface is linear (edges never cross a cell centre, where it bends), so each crossing of
 *   the iso-line that marching squares puts on an edge is ON the line; between crossings the chord departs from the
 *   curved line by hundredths of a pixel;
 * - the field of view enters as a boundary, not as weights: a lattice point is inside when the map is at or above the
 *   level AND the point is in the FOV and on the photo, and a crossing is placed where the FIRST of the two
 *   conditions fails along the edge (the map's crossing, or the circle's / the photo edge's, each interpolated
 *   linearly: the circle is straight to 0.01 px over one edge). FOV weights sampled 4 px apart would blur its 1 px
 *   rim into a ramp of 4 and move outlines that reach it by up to several pixels;
 * - the level is threshold × the peak of the surface inside the FOV (× `mask`), sampled at the cell centres where
 *   the model grid's pixel centres miss it by half a pixel (a peak ~1 % higher than traceOutlines finds on the
 *   upsampled map; on these flat maps that moves an outline by ~0.4 px).
 * Scores are the highest lattice value inside each outline; `minArea` and `simplify` keep their model-grid meaning.
 * @param map a square class map on its own grid (see {@link LabelMap})
 * @param transform the model-input -> photo transform of the analysis
 * @param perCell lattice points per map cell (even; default {@link CLASS_MAP_LATTICE})
 */
export function traceClassMap(map: LabelMap, transform: PhotoTransform, options: ClassMapOutlineOptions = {}, perCell = CLASS_MAP_LATTICE): Outline[] {
  const lattice = classMapLattice(transform, map.width, perCell);
  const n = lattice.inputSize;
  if (options.mask && options.mask.length !== n * n) throw new RangeError(`traceClassMap: the weights must be on the ${n}x${n} lattice`);
  const values = sampleOnLattice(map, perCell, options.mask, LATTICE.f32(n * n));
  // model pixels per lattice step: areas and tolerances are given on the model grid
  const step = transform.inputSize / (n - 1);
  // Signed distance to the FOV's boundary (lattice steps, > 0 inside): the circle, and the photo's edges. The
  // scores and the peak see the map as the drawn one: times the FOV mask (lesions/fovMaskOnGrid's rim: 1 model px).
  const { fov } = options;
  const dist = fov ? LATTICE_DIST.f32(n * n) : null;
  const seen = fov ? LATTICE_SEEN.f32(n * n) : values;
  if (fov && dist) fovDistance(fov, lattice, step, values, dist, seen);
  let peak = 0;
  for (let i = 0; i < seen.length; i++) if (seen[i] > peak) peak = seen[i];
  if (!(peak > 0) || !Number.isFinite(peak)) return [];
  const level = Math.min(Math.max(options.threshold ?? DEFAULT_OUTLINE_THRESHOLD, 0), 1) * peak;
  const inside = LATTICE_INSIDE.f32(n * n);
  for (let i = 0; i < inside.length; i++) inside[i] = values[i] >= level && (!dist || dist[i] >= 0) ? 1 : 0;
  // where along the edge from an inside point to an outside one the region ends: the first condition to fail
  const cross = (a: number, b: number): number => {
    const tMap = values[b] < level ? (values[a] - level) / (values[a] - values[b]) : 1;
    const tFov = dist && dist[b] < 0 ? dist[a] / (dist[a] - dist[b]) : 1;
    return Math.min(tMap, tFov);
  };
  const multi = regionRings(inside, n, n, cross);
  // the lattice spans the model grid in n - 1 steps: minArea's fraction of it is that many steps²
  const minArea = (options.minArea ?? DEFAULT_MIN_OUTLINE_AREA) * (n - 1) * (n - 1);
  return ringsToOutlines(multi, seen, n, map.label, lattice, { ...options, simplify: (options.simplify ?? 0.15) / step }, minArea, level);
}

/**
 * For each lattice point: `dist` = signed distance to the FOV's boundary in lattice steps (> 0 inside the circle and
 * on the photo), and `seen` = values × the FOV mask as fovMaskOnGrid weighs a pixel centre there (a 1-model-pixel rim
 * on the circle, 0 off the photo).
 */
function fovDistance(fov: FieldOfView, lattice: PhotoTransform, step: number, values: Float32Array, dist: Float32Array, seen: Float32Array): void {
  const n = lattice.inputSize;
  const px = lattice.scale; // photo pixels per lattice step
  const r = fov.radius / px, cu = (fov.cx - lattice.offsetX) / px, cv = (fov.cy - lattice.offsetY) / px;
  for (let v = 0; v < n; v++) {
    const y = (v + 0.5) * px + lattice.offsetY;
    const dy = v + 0.5 - cv;
    const rowEdge = Math.min(y, lattice.photoHeight - y) / px;
    for (let u = 0; u < n; u++) {
      const x = (u + 0.5) * px + lattice.offsetX;
      const edge = Math.min(rowEdge, Math.min(x, lattice.photoWidth - x) / px);
      const du = u + 0.5 - cu;
      const circle = fov.found ? r - Math.sqrt(du * du + dy * dy) : Infinity;
      const i = v * n + u;
      dist[i] = Math.min(edge, circle);
      // fovMaskOnGrid: off the photo 0 (its test is x < 0 || x >= width), else the rim's coverage in model pixels
      const onPhoto = x >= 0 && y >= 0 && x < lattice.photoWidth && y < lattice.photoHeight;
      seen[i] = onPhoto ? values[i] * (fov.found ? Math.min(1, Math.max(0, circle * step + 0.5)) : 1) : 0;
    }
  }
}

/**
 * Rings (d3-contour's polygons: outer ring, then holes) around the points where `inside` is 1 on a width × height
 * grid, with each vertex placed on its grid edge at `cross(a, b)`: the fraction of the way from the inside point `a`
 * to the outside point `b` (indices into the grid) where the region ends. Marching squares decides the topology from
 * `inside` alone, as d3-contour does from `value >= level`; only the placement along the edges is ours.
 */
function regionRings(inside: Float32Array, width: number, height: number, cross: (a: number, b: number) => number): Ring[][] {
  const box = regionBox(inside, width, height, 0.5);
  if (!box) return [];
  const { x0, y0, w, h } = box;
  const crop = CROP.f32(w * h);
  for (let y = 0; y < h; y++) crop.set(inside.subarray((y0 + y) * width + x0, (y0 + y) * width + x0 + w), y * w);
  const [multi] = contours().size([w, h]).smooth(false).thresholds([0.5])(crop as unknown as number[]);
  // Unsmoothed, a vertex is the midpoint of a grid edge: (X, j + 0.5) on the edge between points (X - 1, j) and
  // (X, j), or (i + 0.5, Y) between (i, Y - 1) and (i, Y) (point i's centre is at i + 0.5). d3 leaves a vertex on
  // the grid's own border where it is; so do we.
  const place = (p: number[]): number[] => {
    const [X, Y] = p;
    if (Number.isInteger(X) && X > 0 && X < w) {
      const j = Math.floor(Y);
      const a = (y0 + j) * width + x0 + X - 1, b = a + 1;
      const t = inside[a] ? cross(a, b) : cross(b, a);
      return [x0 + (inside[a] ? X - 0.5 + t : X + 0.5 - t), y0 + Y];
    }
    if (Number.isInteger(Y) && Y > 0 && Y < h) {
      const i = Math.floor(X);
      const a = (y0 + Y - 1) * width + x0 + i, b = a + width;
      const t = inside[a] ? cross(a, b) : cross(b, a);
      return [x0 + X, y0 + (inside[a] ? Y - 0.5 + t : Y + 0.5 - t)];
    }
    return [x0 + X, y0 + Y];
  };
  return (multi.coordinates as Ring[][]).map((polygon) => polygon.map((ring) => ring.map(place)));
}

/**
 * traceOutlines' tracer: rings of `values` (width × height, weights already applied) at threshold × peak, mapped to
 * the photo through `transform`; regions smaller than `minArea` cells² of this grid are dropped.
 */
function traceGrid(values: Float32Array, width: number, height: number, label: LabelMap['label'], transform: PhotoTransform, options: OutlineOptions, minArea: number): Outline[] {
  const threshold = options.threshold ?? DEFAULT_OUTLINE_THRESHOLD;
  let peak = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > peak) peak = values[i];
  // A flat or all-zero map (e.g. Grad-CAM of a label with no positive evidence) has no shape to outline.
  if (!(peak > 0) || !Number.isFinite(peak)) return [];
  const level = Math.min(Math.max(threshold, 0), 1) * peak;
  return ringsToOutlines(isoPolygons(values, width, height, level), values, width, label, transform, options, minArea, level);
}

/**
 * Traced polygons (grid coordinates) to outlines in photo pixels: drop regions under `minArea` cells², score each by
 * the highest of `values` inside it, simplify, map through `transform`, round to 0.1 px; best first.
 */
function ringsToOutlines(
  multi: Ring[][], values: Float32Array, width: number, label: LabelMap['label'], transform: PhotoTransform,
  options: OutlineOptions, minArea: number, level: number,
): Outline[] {
  const maxOutlines = options.maxOutlines ?? 20;
  const { scale, offsetX, offsetY, photoWidth, photoHeight } = transform;
  const out: Outline[] = [];
  for (const polygon of multi) {
    const [outer, ...holes] = polygon;
    const areaModel = Math.abs(ringArea(outer)) - holes.reduce((s, h) => s + Math.abs(ringArea(h)), 0);
    if (areaModel < minArea) continue;
    const peakIn = peakInside(values, width, outer, holes);
    const points: [number, number][] = [];
    for (const [u, v] of simplifyRing(outer, options.simplify ?? 0.15)) {
      const x = round1(Math.min(Math.max(u * scale + offsetX, 0), photoWidth));
      const y = round1(Math.min(Math.max(v * scale + offsetY, 0), photoHeight));
      const last = points[points.length - 1];
      if (!last || last[0] !== x || last[1] !== y) points.push([x, y]);
    }
    if (points.length < 4) continue;
    const area = Math.abs(ringArea(points));
    if (area <= 0) continue;
    out.push({ label, points, area, score: Number.isFinite(peakIn) ? peakIn : level });
  }
  out.sort((a, b) => b.score - a.score || b.area - a.area);
  return out.slice(0, maxOutlines);
}
