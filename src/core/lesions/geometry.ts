/**
 * Map geometry between the model-input grid and the original photo, using the similarity
 * transform defined with {@link PhotoTransform} (x = u * scale + offsetX; pixel i covers
 * [i, i + 1), so its centre is i + 0.5 on both grids).
 */
import type { FieldOfView, LabelMap, PhotoTransform } from '../types';

/**
 * Field-of-view weights on a `size`×`size` model grid: 1 inside the FOV circle, 0 outside,
 * with a one-pixel anti-aliased rim (so a map cut by it gives a smooth outline, not a
 * staircase), and 0 where the pixel centre falls outside the photo (the square padding).
 * Multiply explanation maps by it: what the model "sees" on the black border is an artefact
 * of zero input, not a finding. Without a FOV (`found: false`) only the photo bounds apply.
 * @param into optional size² array to write the weights into (every element), else a new one
 */
export function fovMaskOnGrid(fov: FieldOfView, transform: PhotoTransform, size = transform.inputSize, into?: Float32Array): Float32Array {
  if (into && into.length !== size * size) throw new RangeError(`fovMaskOnGrid: \`into\` holds ${into.length} values, not ${size}²`);
  // pixels off the photo are skipped below: a given array is zeroed first
  const mask = into ? into.fill(0) : new Float32Array(size * size);
  const k = transform.inputSize / size;
  const px = transform.scale * k; // photo pixels per grid pixel
  const r = fov.radius / px;
  const cu = (fov.cx - transform.offsetX) / px;
  const cv = (fov.cy - transform.offsetY) / px;
  for (let v = 0; v < size; v++) {
    const y = (v + 0.5) * px + transform.offsetY;
    const dv = v + 0.5 - cv;
    for (let u = 0; u < size; u++) {
      const x = (u + 0.5) * px + transform.offsetX;
      if (x < 0 || y < 0 || x >= transform.photoWidth || y >= transform.photoHeight) continue;
      const du = u + 0.5 - cu;
      // sqrt, not Math.hypot: within an ulp, and hypot cost ~30 ns a call here (8 ms at 512²)
      mask[v * size + u] = fov.found ? Math.min(1, Math.max(0, r - Math.sqrt(du * du + dv * dv) + 0.5)) : 1;
    }
  }
  return mask;
}

/**
 * Resamples a model-grid map (values 0..1) onto the original photo's pixel grid as 8-bit
 * greyscale (0..255), bilinear, zero outside the model's square. Row-major,
 * photoWidth × photoHeight. One pass, no float copy at photo size (12 MP photos are common).
 */
export function warpMapToPhoto(map: LabelMap, transform: PhotoTransform): Uint8Array {
  const { photoWidth: W, photoHeight: H, scale, offsetX, offsetY } = transform;
  const { width: w, height: h, data } = map;
  // The map may be coarser than the model input (e.g. raw Grad-CAM); rescale u to its grid.
  const kx = w / transform.inputSize, ky = h / transform.inputSize;
  const out = new Uint8Array(W * H);
  const sample = (i: number, j: number): number => (i < 0 || j < 0 || i >= w || j >= h ? 0 : data[j * w + i]);
  for (let y = 0; y < H; y++) {
    const v = (((y + 0.5 - offsetY) / scale) * ky) - 0.5;
    const j0 = Math.floor(v), fy = v - j0;
    if (j0 < -1 || j0 >= h) continue;
    for (let x = 0; x < W; x++) {
      const u = (((x + 0.5 - offsetX) / scale) * kx) - 0.5;
      const i0 = Math.floor(u), fx = u - i0;
      if (i0 < -1 || i0 >= w) continue;
      const top = sample(i0, j0) * (1 - fx) + sample(i0 + 1, j0) * fx;
      const bottom = sample(i0, j0 + 1) * (1 - fx) + sample(i0 + 1, j0 + 1) * fx;
      const val = top * (1 - fy) + bottom * fy;
      out[y * W + x] = Math.round(Math.min(Math.max(val, 0), 1) * 255);
    }
  }
  return out;
}

/**
 * A class-activation map on its coarse grid (analyze()'s `maps.gradCam`: one value per cell of the last
 * block, e.g. 16×16) on the `size`×`size` model-input grid, multiplied by `mask` (the FOV weights of
 * {@link fovMaskOnGrid}) when one is given: what is drawn, outlined and exported.
 *
 * The interpolation is tf.image.resizeBilinear's with halfPixelCenters (cell i covers the same input
 * pixels its features summarise, so a peak does not drift by half a cell) and edge clamping — the same
 * numbers as the in-graph upsampling of the Guided Grad-CAM product (explain/grad-cam upsampleClassMaps),
 * to float rounding. Why not keep the maps at model size in the result: 5 maps at 512² are 5 MB per
 * analysis read back from the backend, posted to the page and held per photo, for 1 KB of information
 * each; in Chromium reading them into fresh memory alone cost ~17 ms (half the demo model's forward).
 *
 * A map already at `size` is copied (and masked). `out` (size², e.g. scratch memory) is filled and returned.
 */
export function upsampleMap(map: LabelMap, size: number, mask?: Float32Array, out: Float32Array = new Float32Array(size * size)): Float32Array {
  const { width: w, height: h, data } = map;
  if (data.length !== w * h) throw new RangeError(`map data length ${data.length} != ${w}x${h}`);
  if (out.length !== size * size || (mask && mask.length !== size * size)) throw new RangeError(`upsampleMap: output and mask must be ${size}x${size}`);
  return separable(map, taps(w, size), taps(h, size), mask, out);
}

type Taps = ReturnType<typeof taps>;

/**
 * The bilinear samples of `map` at the columns `col` and rows `row` pick (out is row.length × col.length), times
 * `mask` when given. Separable: each source row is interpolated along x once (in doubles, so the result is the
 * one-pass formula's to the bit), then each output pixel is one lerp between two of those rows. A third of the
 * per-pixel work: it matters most in the first analysis, before the JIT has compiled this loop (~26 ms cold).
 */
function separable(map: LabelMap, col: Taps, row: Taps, mask: Float32Array | undefined, out: Float32Array): Float32Array {
  const { width: w, height: h, data } = map;
  const W = col.lo.length;
  const across = new Float64Array(h * W);
  for (let j = 0; j < h; j++) {
    const r = j * w;
    for (let x = 0; x < W; x++) {
      const left = data[r + col.lo[x]];
      across[j * W + x] = left + (data[r + col.hi[x]] - left) * col.frac[x];
    }
  }
  // one call per output row: V8 compiles a small function called often long before it would compile this loop
  // in place, which in a first analysis made the whole upsampling 16–26 ms instead of ~1 ms
  for (let y = 0; y < row.lo.length; y++) lerpRow(out, y * W, across, row.lo[y] * W, row.hi[y] * W, row.frac[y], W, mask);
  return out;
}

/** out[p .. p + n) = lerp(across[top ..], across[bottom ..], fy), times mask[p ..] when given. */
function lerpRow(out: Float32Array, p: number, across: Float64Array, top: number, bottom: number, fy: number, n: number, mask: Float32Array | undefined): void {
  if (mask) {
    for (let x = 0; x < n; x++) out[p + x] = (across[top + x] + (across[bottom + x] - across[top + x]) * fy) * mask[p + x];
  } else {
    for (let x = 0; x < n; x++) out[p + x] = across[top + x] + (across[bottom + x] - across[top + x]) * fy;
  }
}

/** The two source indices and the weight of each output pixel, as tfjs' ResizeBilinear (halfPixelCenters, no alignCorners) computes them. */
function taps(inSize: number, outSize: number): { lo: Int32Array; hi: Int32Array; frac: Float32Array } {
  const ratio = inSize / outSize;
  return tapsAt(inSize, outSize, (i) => ratio * (i + 0.5) - 0.5);
}

/** taps() for output samples at source positions `src(i)` (in source cells, centre of cell j at j). */
function tapsAt(inSize: number, outSize: number, src: (i: number) => number): { lo: Int32Array; hi: Int32Array; frac: Float32Array } {
  const lo = new Int32Array(outSize), hi = new Int32Array(outSize), frac = new Float32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const s = src(i);
    lo[i] = Math.max(0, Math.floor(s));
    hi[i] = Math.min(inSize - 1, Math.ceil(s));
    frac[i] = s - lo[i]; // where lo === hi (the clamped edges) the weight multiplies a zero difference
  }
  return { lo, hi, frac };
}

/**
 * Lattice points per class-map cell on which {@link sampleOnLattice} samples a class map and lesions/traceClassMap traces
 * it. Even, so that every cell centre (where the bilinear surface has its kinks and its peaks) is a lattice point; 8
 * puts the points 4 model pixels apart for Grad-CAM's 16² grid at 512².
 */
export const CLASS_MAP_LATTICE = 8;

/**
 * The lattice on which a class map of `cells`² is sampled for tracing, as a PhotoTransform whose pixel CENTRES are
 * the lattice points: point i (0 … cells · perCell, both ends included) lies at model-grid coordinate i · step, step =
 * inputSize / (cells · perCell). So {@link fovMaskOnGrid}(fov, lattice) and lesions/discExclusionWeights(disc, lattice)
 * give the weights at the lattice points, and a ring traced on the lattice maps to the photo through it like any map.
 */
export function classMapLattice(transform: PhotoTransform, cells: number, perCell = CLASS_MAP_LATTICE): PhotoTransform {
  if (!(Number.isInteger(cells) && cells > 0 && Number.isInteger(perCell) && perCell > 0 && perCell % 2 === 0)) {
    throw new RangeError(`classMapLattice: ${cells} cells and ${perCell} points per cell (a positive even number) do not make a lattice`);
  }
  const step = (transform.scale * transform.inputSize) / (cells * perCell); // photo pixels between lattice points
  return {
    inputSize: cells * perCell + 1,
    photoWidth: transform.photoWidth,
    photoHeight: transform.photoHeight,
    scale: step,
    offsetX: transform.offsetX - step / 2,
    offsetY: transform.offsetY - step / 2,
  };
}

/**
 * A square class map's values at the points of its {@link classMapLattice}: the continuous surface that
 * {@link upsampleMap} samples at pixel centres (tf's bilinear with halfPixelCenters and edge clamping), here sampled
 * where it is exactly bilinear between neighbouring points — cell centres are lattice points, so no lattice square
 * straddles a kink and marching squares finds the iso-line's crossings on the lattice edges exactly. Times `weights`
 * (the lattice's FOV × disc weights) when given. `out` ((cells · perCell + 1)²) is filled and returned.
 */
export function sampleOnLattice(map: LabelMap, perCell = CLASS_MAP_LATTICE, weights?: Float32Array, out?: Float32Array): Float32Array {
  const { width: w, height: h, data } = map;
  if (w !== h) throw new RangeError(`sampleOnLattice: the map is ${w}x${h}, not square`);
  if (data.length !== w * h) throw new RangeError(`map data length ${data.length} != ${w}x${h}`);
  const n = w * perCell + 1;
  if ((out && out.length !== n * n) || (weights && weights.length !== n * n)) throw new RangeError(`sampleOnLattice: output and weights must be ${n}x${n}`);
  const o = out ?? new Float32Array(n * n);
  // point i is at model coordinate i · step = (i / perCell) cells, i.e. i / perCell - 0.5 in tf's source coordinates
  const t = tapsAt(w, n, (i) => i / perCell - 0.5);
  return separable(map, t, t, weights, o);
}
