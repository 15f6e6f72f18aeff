import { fovMaskOnGrid, upsampleMap } from '../core/lesions/geometry';
import type { AnalysisResult, LesionLabelId } from '../core/types';

export type HeatKind = 'gradcam' | 'guided' | 'combined' | 'none';

/**
 * Which model-grid values to paint as the heat map. Grad-CAM / Guided Grad-CAM: the
 * per-pixel maximum over the shown labels that the model called positive (maps of
 * negative labels explain a "no" and would mislead); when no shown label is positive, all
 * shown labels that have maps, so the clinician can still see where the model looked.
 * Combined: the eq. 4 map as computed by the core (positive lesion labels only).
 *
 * The guided and combined maps are pixel-level and sparse: each is divided by its single
 * brightest pixel, so on a typical photo only a few hundred of 512² values clear the colour
 * map's transparency floor, scattered one pixel wide — at "fit" zoom the view looked empty.
 * For display only (the stored maps, outlines and exports are unchanged) they are stretched so
 * that their top 0.1 % saturates (see {@link stretchForDisplay}) and widened by one model pixel
 * ({@link dilate3}), which keeps every detail where it is but makes it visible.
 */
export function heatValues(r: AnalysisResult | undefined, kind: HeatKind, visible: Record<LesionLabelId, boolean>): { values: Float32Array; size: number } | null {
  const maps = r?.maps;
  if (!r || !maps || kind === 'none') return null;
  const size = r.transform.inputSize;
  if (kind === 'combined') return maps.combined && maps.combined.length === size * size ? { values: dilate3(stretchForDisplay(maps.combined), size), size } : null;
  const list = (kind === 'gradcam' ? maps.gradCam : (maps.guidedGradCam ?? [])).filter(
    (m) => visible[m.label] && m.data.length === m.width * m.height && (m.width === size ? m.height === size : kind === 'gradcam'),
  );
  const pos = list.filter((m) => r.positive[m.label]);
  const use = pos.length ? pos : list;
  if (!use.length) return null;
  const out = new Float32Array(size * size);
  // the class maps come on their coarse grid (core analyze): upsampled to the model grid and FOV-masked here
  let up: Float32Array | null = null;
  for (const m of use) {
    let data = m.data;
    if (m.width !== size) data = upsampleMap(m, size, fovMaskOf(r), (up ??= new Float32Array(size * size)));
    else if (kind === 'guided') data = stretchForDisplay(m.data);
    for (let i = 0; i < out.length; i++) if (data[i] > out[i]) out[i] = data[i];
  }
  return { values: kind === 'guided' ? dilate3(out, size) : out, size };
}

/** FOV masks by the transform object of a result: a label toggled or a colour map changed redraws without a new mask. */
const fovMasks = new WeakMap<AnalysisResult['transform'], { fov: AnalysisResult['fov']; mask: Float32Array }>();

function fovMaskOf(r: AnalysisResult): Float32Array {
  const hit = fovMasks.get(r.transform);
  if (hit && hit.fov === r.fov) return hit.mask;
  const mask = fovMaskOnGrid(r.fov, r.transform, r.transform.inputSize);
  fovMasks.set(r.transform, { fov: r.fov, mask });
  return mask;
}

/**
 * `values` divided by their `q`-quantile among the positive values (a robust maximum), clipped
 * at 1: the strongest (1 − q) of the map's evidence saturates instead of one pixel. A map with
 * no positive value comes back as zeros. The quantile is read off a 4096-bin histogram (to
 * 1/4096 of the maximum), which is plenty for a colour map of 256 steps.
 */
export function stretchForDisplay(values: ArrayLike<number>, q = 0.999): Float32Array {
  const n = values.length;
  const out = new Float32Array(n);
  let max = 0;
  let npos = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v > 0) {
      npos++;
      if (v > max) max = v;
    }
  }
  if (npos === 0) return out;
  const BINS = 4096;
  const hist = new Uint32Array(BINS);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v > 0) hist[Math.min(BINS - 1, Math.floor((v / max) * BINS))]++;
  }
  const want = Math.ceil(q * npos);
  let seen = 0;
  let bin = BINS - 1;
  for (let b = 0; b < BINS; b++) {
    seen += hist[b];
    if (seen >= want) {
      bin = b;
      break;
    }
  }
  const scale = ((bin + 1) / BINS) * max;
  for (let i = 0; i < n; i++) {
    const v = values[i] / scale;
    out[i] = v > 0 ? (v < 1 ? v : 1) : 0;
  }
  return out;
}

/** 3×3 maximum filter on a size×size map (edges use the pixels that exist). */
export function dilate3(values: ArrayLike<number>, size: number): Float32Array {
  const tmp = new Float32Array(size * size);
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const row = y * size;
    for (let x = 0; x < size; x++) {
      let m = values[row + x];
      if (x > 0 && values[row + x - 1] > m) m = values[row + x - 1];
      if (x < size - 1 && values[row + x + 1] > m) m = values[row + x + 1];
      tmp[row + x] = m;
    }
  }
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      let m = tmp[i];
      if (y > 0 && tmp[i - size] > m) m = tmp[i - size];
      if (y < size - 1 && tmp[i + size] > m) m = tmp[i + size];
      out[i] = m;
    }
  }
  return out;
}
