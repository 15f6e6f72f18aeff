/**
 * Localization scoring for the evaluation report: lesion masks / boxes are carried from
 * photo pixels to model pixels through the SAME PhotoTransform the preprocessing produced
 * (photoToModel), then each explanation map — Grad-CAM (paper eq. 1–2) and Guided Grad-CAM
 * (eq. 3) — is scored with the pointing game and AUPR from src/core/metrics, beside two
 * reference lines that depend only on the lesion: chance (a random peak) and, for Grad-CAM,
 * the resolution bound of an ideal cell-level map.
 */
import { averagePrecision, mapPeaks, pointingGame, pointingGameBoxes, type PixelBox } from '../../../src/core/metrics/index';
import { photoToModel } from '../../../src/core/preprocess/index';
import type { GuidedSaliencyMode, LocalizationMapKind, LocalizationMetrics, LocalizationTable, PhotoTransform } from '../../../src/core/types';

/**
 * The transform for a mask stored at another resolution than the decoded photo: same
 * geometry, photo coordinates rescaled. Throws when the mask's aspect ratio is not the photo's.
 */
export function maskTransform(t: PhotoTransform, w: number, h: number): PhotoTransform {
  if (w === t.photoWidth && h === t.photoHeight) return t;
  const sx = w / t.photoWidth;
  const sy = h / t.photoHeight;
  if (Math.abs(sx - sy) > 0.01) throw new Error(`mask ${w}×${h} does not have the photo's aspect ratio (${t.photoWidth}×${t.photoHeight})`);
  return { ...t, photoWidth: w, photoHeight: h, scale: t.scale * sx, offsetX: t.offsetX * sx, offsetY: t.offsetY * sy };
}

/**
 * A photo-size binary mask resampled onto the model grid by "any": a model pixel is lesion
 * when any lesion photo pixel's centre falls in it. Nearest-neighbour sampling would drop
 * most microaneurysms (2–3 px at 512², a photo pixel is ~1/7 of a model pixel on IDRiD).
 */
export function maskToModel(mask: ArrayLike<number>, photoWidth: number, photoHeight: number, t: PhotoTransform): Uint8Array {
  if (mask.length !== photoWidth * photoHeight) throw new RangeError(`mask of length ${mask.length} is not ${photoWidth}×${photoHeight}`);
  const S = t.inputSize;
  const out = new Uint8Array(S * S);
  for (let y = 0; y < photoHeight; y++) {
    const row = y * photoWidth;
    for (let x = 0; x < photoWidth; x++) {
      if (!mask[row + x]) continue;
      const [u, v] = photoToModel(t, x + 0.5, y + 0.5);
      const iu = Math.floor(u);
      const iv = Math.floor(v);
      if (iu >= 0 && iu < S && iv >= 0 && iv < S) out[iv * S + iu] = 1;
    }
  }
  return out;
}

/** A box given normalised to the photo (YOLO style: centre and size in 0..1) → model pixels. */
export function boxToModel(b: { cx: number; cy: number; w: number; h: number }, t: PhotoTransform): PixelBox {
  const [x0, y0] = photoToModel(t, (b.cx - b.w / 2) * t.photoWidth, (b.cy - b.h / 2) * t.photoHeight);
  const [x1, y1] = photoToModel(t, (b.cx + b.w / 2) * t.photoWidth, (b.cy + b.h / 2) * t.photoHeight);
  return { x0: Math.min(x0, x1), y0: Math.min(y0, y1), x1: Math.max(x0, x1), y1: Math.max(y0, y1) };
}

/**
 * Chance level of the pointing game: the fraction of FOV pixels within `tol` of the lesion,
 * i.e. the hit probability of a peak placed uniformly at random on the retina. Many small
 * lesions dilated by the tolerance can cover a large part of the FOV (hard exudates!), so a
 * pointing-game rate means little without it. `fov` weights (0..1, model grid) default to 1.
 */
export function pointingChance(S: number, tol: number, target: { mask?: ArrayLike<number>; boxes?: readonly PixelBox[] }, fov?: ArrayLike<number>): number {
  const near = new Uint8Array(S * S);
  const r = Math.floor(tol);
  const r2 = tol * tol;
  if (target.mask) {
    const m = target.mask;
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        if (!m[y * S + x]) continue;
        for (let dy = -r; dy <= r; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= S) continue;
          for (let dx = -r; dx <= r; dx++) {
            const xx = x + dx;
            if (xx >= 0 && xx < S && dx * dx + dy * dy <= r2) near[yy * S + xx] = 1;
          }
        }
      }
    }
  }
  for (const b of target.boxes ?? []) {
    const y0 = Math.max(0, Math.floor(b.y0 - tol - 1));
    const y1 = Math.min(S - 1, Math.ceil(b.y1 + tol + 1));
    const x0 = Math.max(0, Math.floor(b.x0 - tol - 1));
    const x1 = Math.min(S - 1, Math.ceil(b.x1 + tol + 1));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const cx = x + 0.5;
        const cy = y + 0.5;
        const dx = Math.max(b.x0 - cx, 0, cx - b.x1);
        const dy = Math.max(b.y0 - cy, 0, cy - b.y1);
        if (dx * dx + dy * dy <= r2) near[y * S + x] = 1;
      }
    }
  }
  let inFov = 0;
  let hit = 0;
  for (let i = 0; i < S * S; i++) {
    const w = fov ? fov[i] : 1;
    inFov += w;
    if (near[i]) hit += w;
  }
  return inFov > 0 ? hit / inFov : Number.NaN;
}

/**
 * Which explanation map a sample scores. 'gradcam' = Grad-CAM (paper eq. 1–2, on the coarse grid
 * of the last convolutional block, upsampled); 'guided-gradcam' = Guided Grad-CAM (eq. 3,
 * guided backprop × Grad-CAM, pixel resolution — the map the paper thresholds for Fig. 6);
 * 'hirescam' / 'guided-hirescam' = the same two with HiResCAM (src/core/explain/hires-cam.ts)
 * in place of Grad-CAM, the app's alternative class-activation map.
 */
export type MapKind = LocalizationMapKind;
export const MAP_KINDS: readonly MapKind[] = ['gradcam', 'guided-gradcam', 'hirescam', 'guided-hirescam'];

/** true for the maps that live on the last block's coarse grid (one value per cell, upsampled). */
export function isCellMap(map: MapKind): boolean {
  return map === 'gradcam' || map === 'hirescam';
}

/**
 * The pointing game an IDEAL cell-level map could reach: true when the centre of some cell of a
 * `grid`×`grid` map (cell side S / grid model px, e.g. 32 px for Grad-CAM's 16×16 at 512²) lies
 * within `tol` of the lesion. A Grad-CAM map is one value per cell upsampled bilinearly, so its
 * peak sits at (the pixels around) a cell centre: a lesion far from every cell centre cannot be
 * hit at a tolerance below half a cell, however good the model. Distances are from the cell
 * centre (continuous, ((i + ½)·cell, (j + ½)·cell)) to lesion pixel centres / to boxes.
 */
export function cellCentreBound(S: number, grid: number, tol: number, target: { mask?: ArrayLike<number>; boxes?: readonly PixelBox[] }): boolean {
  if (!(Number.isInteger(grid) && grid > 0)) throw new RangeError(`grid must be a positive integer, got ${grid}`);
  if (!(tol >= 0)) throw new RangeError(`tolerance must be >= 0, got ${tol}`);
  const cell = S / grid;
  const r2 = tol * tol;
  for (let j = 0; j < grid; j++) {
    const cy = (j + 0.5) * cell;
    for (let i = 0; i < grid; i++) {
      const cx = (i + 0.5) * cell;
      if (target.mask) {
        const m = target.mask;
        // lesion pixel centres x + ½ within tol of cx: x in [cx − tol − ½, cx + tol − ½]
        const x0 = Math.max(0, Math.ceil(cx - tol - 0.5));
        const x1 = Math.min(S - 1, Math.floor(cx + tol - 0.5));
        const y0 = Math.max(0, Math.ceil(cy - tol - 0.5));
        const y1 = Math.min(S - 1, Math.floor(cy + tol - 0.5));
        for (let y = y0; y <= y1; y++) {
          const dy = y + 0.5 - cy;
          for (let x = x0; x <= x1; x++) {
            const dx = x + 0.5 - cx;
            if (m[y * S + x] && dx * dx + dy * dy <= r2) return true;
          }
        }
      }
      for (const b of target.boxes ?? []) {
        const dx = Math.max(b.x0 - cx, 0, cx - b.x1);
        const dy = Math.max(b.y0 - cy, 0, cy - b.y1);
        if (dx * dx + dy * dy <= r2) return true;
      }
    }
  }
  return false;
}

/**
 * Per LESION rather than per image: how many connected lesions (8-connected components of the
 * model-grid mask) have a pixel centre within `tol` of some cell centre — the lesions an ideal
 * cell-level map could point at. {@link cellCentreBound} is per image (any one lesion suffices),
 * which hides the limit on photos with many lesions; this count shows it (a point-like lesion
 * is reachable with probability ≈ π·tol² / cell², 18 % at 7.6 px and 32 px cells).
 */
export function reachableLesions(S: number, grid: number, tol: number, mask: ArrayLike<number>): { lesions: number; reachable: number } {
  if (mask.length !== S * S) throw new RangeError(`mask of length ${mask.length} is not ${S}×${S}`);
  const cell = S / grid;
  const r2 = tol * tol;
  // distance from pixel centre (x + ½, y + ½) to the nearest cell centre, per axis
  const axis = new Float64Array(S);
  for (let x = 0; x < S; x++) {
    const i = Math.min(grid - 1, Math.max(0, Math.floor((x + 0.5) / cell)));
    axis[x] = Math.abs(x + 0.5 - (i + 0.5) * cell);
  }
  const seen = new Uint8Array(S * S);
  const stack: number[] = [];
  let lesions = 0;
  let reachable = 0;
  for (let start = 0; start < S * S; start++) {
    if (!mask[start] || seen[start]) continue;
    lesions++;
    let near = false;
    seen[start] = 1;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % S;
      const y = (p - x) / S;
      if (!near && axis[x] * axis[x] + axis[y] * axis[y] <= r2) near = true;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= S) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const q = yy * S + xx;
          if (xx >= 0 && xx < S && mask[q] && !seen[q]) {
            seen[q] = 1;
            stack.push(q);
          }
        }
      }
    }
    if (near) reachable++;
  }
  return { lesions, reachable };
}

/** Pointing game of one map at a second, coarser tolerance (reported beside, never instead of, the stated one). */
export interface CoarseOutcome {
  tolerancePx: number;
  hit: boolean;
  chance: number;
  /** {@link cellCentreBound} at this tolerance (Grad-CAM samples only) */
  upperBoundHit?: boolean;
}

/** Per-image localization outcome for one label and one map. */
export interface LocalizationSample {
  stem: string;
  label: string;
  /** which map was scored; absent (older details.json) = 'gradcam' */
  map?: MapKind;
  /** 'mask' or 'boxes' */
  source: 'mask' | 'boxes';
  hit: boolean;
  /** the map has no positive value (Grad-CAM's ReLU removed everything): it points nowhere */
  emptyMap: boolean;
  /** hit probability of a random peak in the FOV ({@link pointingChance}) */
  chance: number;
  /** whether an ideal cell-level map would hit ({@link cellCentreBound}; Grad-CAM samples only) */
  upperBoundHit?: boolean;
  /** connected lesions on the model grid, and how many a cell-centred peak could reach ({@link reachableLesions}; Grad-CAM mask samples only) */
  lesions?: number;
  reachableLesions?: number;
  /** the pointing game at the coarser tolerance, when asked for */
  coarse?: CoarseOutcome;
  /** AUPR of the map against the mask (masks only) */
  ap?: number;
  /** fraction of model pixels that are lesion (the AP of a random map) */
  prevalence?: number;
}

/** Extras of {@link scoreAgainstMask} / {@link scoreAgainstBoxes}. */
export interface ScoreOptions {
  /** the map scored (default 'gradcam') */
  map?: MapKind;
  /** side of the map's native grid (Grad-CAM: A's side, 16 at 512²): adds {@link cellCentreBound} */
  camGrid?: number;
  /** also score the pointing game at this coarser tolerance (model px) */
  coarseTolerancePx?: number;
}

function extras(S: number, tol: number, target: { mask?: Uint8Array; boxes?: PixelBox[] }, fov: ArrayLike<number> | undefined, o: ScoreOptions, hitAt: (t: number) => boolean) {
  const out: Pick<LocalizationSample, 'upperBoundHit' | 'lesions' | 'reachableLesions' | 'coarse'> = {};
  if (o.camGrid !== undefined) {
    out.upperBoundHit = cellCentreBound(S, o.camGrid, tol, target);
    if (target.mask) {
      const r = reachableLesions(S, o.camGrid, tol, target.mask);
      out.lesions = r.lesions;
      out.reachableLesions = r.reachable;
    }
  }
  if (o.coarseTolerancePx !== undefined) {
    const c = o.coarseTolerancePx;
    out.coarse = { tolerancePx: c, hit: hitAt(c), chance: pointingChance(S, c, target, fov) };
    if (o.camGrid !== undefined) out.coarse.upperBoundHit = cellCentreBound(S, o.camGrid, c, target);
  }
  return out;
}

export function scoreAgainstMask(
  stem: string,
  label: string,
  map: Float32Array,
  S: number,
  mask: Uint8Array,
  tolerancePx: number,
  fov?: ArrayLike<number>,
  o: ScoreOptions = {},
): LocalizationSample | null {
  let fg = 0;
  for (let i = 0; i < mask.length; i++) fg += mask[i];
  if (fg === 0) return null; // lesion too small/outside the crop to exist on the model grid
  return {
    stem,
    label,
    map: o.map ?? 'gradcam',
    source: 'mask',
    hit: pointingGame(map, S, S, mask, tolerancePx),
    emptyMap: mapPeaks(map).length === 0,
    chance: pointingChance(S, tolerancePx, { mask }, fov),
    ...extras(S, tolerancePx, { mask }, fov, o, (t) => pointingGame(map, S, S, mask, t)),
    ap: averagePrecision(map, mask),
    prevalence: fg / mask.length,
  };
}

export function scoreAgainstBoxes(
  stem: string,
  label: string,
  map: Float32Array,
  S: number,
  boxes: PixelBox[],
  tolerancePx: number,
  fov?: ArrayLike<number>,
  o: ScoreOptions = {},
): LocalizationSample | null {
  if (boxes.length === 0) return null;
  return {
    stem,
    label,
    map: o.map ?? 'gradcam',
    source: 'boxes',
    hit: pointingGameBoxes(map, S, S, boxes, tolerancePx),
    emptyMap: mapPeaks(map).length === 0,
    chance: pointingChance(S, tolerancePx, { boxes }, fov),
    ...extras(S, tolerancePx, { boxes }, fov, o, (t) => pointingGameBoxes(map, S, S, boxes, t)),
  };
}

/** Aggregate per (map, label, source): hit rate, n, mean AP, mean prevalence (random-map AP baseline). */
export interface LocalizationSummary {
  /** which map; 'gradcam' for samples without one */
  map: MapKind;
  label: string;
  source: string;
  n: number;
  hits: number;
  /** maps with no positive evidence (counted as misses) */
  emptyMaps: number;
  pointingGame: number;
  /** mean chance hit rate of a random peak in the FOV: the pointing game's baseline */
  chance: number;
  /** images an ideal cell-level map would hit ({@link cellCentreBound}); Grad-CAM only */
  upperBoundHits?: number;
  /** upperBoundHits / n: the resolution limit of a cell-level map at this tolerance */
  upperBound?: number;
  /** connected lesions over all images, and how many a cell-centred peak could reach (Grad-CAM, masks) */
  lesions?: number;
  reachableLesions?: number;
  /** the same at the coarser tolerance, when scored */
  coarse?: { tolerancePx: number; hits: number; pointingGame: number; chance: number; upperBoundHits?: number; upperBound?: number };
  meanAp?: number;
  meanPrevalence?: number;
}

export function summariseLocalization(samples: readonly LocalizationSample[]): LocalizationSummary[] {
  const byKey = new Map<string, LocalizationSample[]>();
  for (const s of samples) {
    const k = `${s.map ?? 'gradcam'}\u0000${s.label}\u0000${s.source}`;
    const list = byKey.get(k) ?? [];
    list.push(s);
    byKey.set(k, list);
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const count = (list: readonly LocalizationSample[], f: (s: LocalizationSample) => boolean | undefined) => list.filter(f).length;
  const out: LocalizationSummary[] = [];
  for (const list of byKey.values()) {
    const hits = count(list, (s) => s.hit);
    const aps = list.map((s) => s.ap).filter((v): v is number => v !== undefined && Number.isFinite(v));
    const prev = list.map((s) => s.prevalence).filter((v): v is number => v !== undefined);
    const sum: LocalizationSummary = {
      map: list[0].map ?? 'gradcam',
      label: list[0].label,
      source: list[0].source,
      n: list.length,
      hits,
      emptyMaps: count(list, (s) => s.emptyMap),
      pointingGame: hits / list.length,
      chance: mean(list.map((s) => s.chance)),
    };
    // A bound or a coarse score over only part of the images would mislead: all or nothing.
    if (list.every((s) => s.upperBoundHit !== undefined)) {
      sum.upperBoundHits = count(list, (s) => s.upperBoundHit);
      sum.upperBound = sum.upperBoundHits / list.length;
    }
    if (list.every((s) => s.lesions !== undefined)) {
      sum.lesions = list.reduce((a, s) => a + s.lesions!, 0);
      sum.reachableLesions = list.reduce((a, s) => a + s.reachableLesions!, 0);
    }
    const c0 = list[0].coarse;
    if (c0 && list.every((s) => s.coarse?.tolerancePx === c0.tolerancePx)) {
      const ch = count(list, (s) => s.coarse!.hit);
      sum.coarse = { tolerancePx: c0.tolerancePx, hits: ch, pointingGame: ch / list.length, chance: mean(list.map((s) => s.coarse!.chance)) };
      if (list.every((s) => s.coarse!.upperBoundHit !== undefined)) {
        sum.coarse.upperBoundHits = count(list, (s) => s.coarse!.upperBoundHit);
        sum.coarse.upperBound = sum.coarse.upperBoundHits / list.length;
      }
    }
    sum.meanAp = aps.length ? mean(aps) : undefined;
    sum.meanPrevalence = prev.length ? mean(prev) : undefined;
    out.push(sum);
  }
  return out;
}

/** Display names of the map kinds (report.md headings, report.json `name`). */
export function mapName(map: MapKind, grid?: number, guidedSaliency?: GuidedSaliencyMode): string {
  const g = grid ? `, ${grid}×${grid} grid` : '';
  const sal = guidedSaliency === 'abs' ? ', |gradient| saliency' : guidedSaliency === 'contrast' ? ', lesion-contrast saliency' : '';
  switch (map) {
    case 'gradcam':
      return `Grad-CAM (eq. 1–2${g})`;
    case 'guided-gradcam':
      return `Guided Grad-CAM (eq. 3, pixel resolution${sal})`;
    case 'hirescam':
      return `HiResCAM (Draelos & Carin 2020${g})`;
    case 'guided-hirescam':
      return `Guided HiResCAM (eq. 3 with HiResCAM, pixel resolution${sal})`;
  }
}

/** report.json's localization tables: one per map kind scored, rows in the given order. */
export function toLocalizationTables(
  summaries: readonly LocalizationSummary[],
  maps: readonly MapKind[],
  tolerancePx: number,
  camGrid?: number,
  guidedSaliency?: GuidedSaliencyMode,
): LocalizationTable[] {
  return maps.map((map) => ({
    map,
    name: mapName(map, camGrid, isCellMap(map) ? undefined : guidedSaliency),
    tolerancePx,
    ...(isCellMap(map) && camGrid !== undefined ? { grid: camGrid } : {}),
    ...(!isCellMap(map) && guidedSaliency ? { guidedSaliency } : {}),
    rows: summaries
      .filter((s) => s.map === map)
      .map((s): LocalizationMetrics => {
        const r: LocalizationMetrics = {
          label: s.label,
          source: s.source === 'boxes' ? 'boxes' : 'mask',
          n: s.n,
          hits: s.hits,
          pointingGame: s.pointingGame,
          chance: s.chance,
          emptyMaps: s.emptyMaps,
        };
        if (s.upperBound !== undefined) {
          r.upperBound = s.upperBound;
          r.upperBoundHits = s.upperBoundHits;
        }
        if (s.lesions !== undefined) {
          r.lesions = s.lesions;
          r.reachableLesions = s.reachableLesions;
        }
        if (s.coarse) r.coarse = { ...s.coarse };
        if (s.meanAp !== undefined) r.meanAp = s.meanAp;
        if (s.meanPrevalence !== undefined) r.prevalence = s.meanPrevalence;
        return r;
      }),
  }));
}

/**
 * The default tolerance: 0.1 optic-disc diameter in model pixels. The disc is ≈ 0.155 of the
 * FOV diameter (shared/data/lesion-stats.md); the crop side is the FOV diameter × (1 + 2·margin).
 */
export function defaultTolerancePx(inputSize: number, fovMargin: number): number {
  const fovDiameterPx = inputSize / (1 + 2 * fovMargin);
  return Math.round(0.1 * 0.155 * fovDiameterPx * 10) / 10;
}
