/**
 * Localization scoring for the evaluation report: lesion masks / boxes are carried from
 * photo pixels to model pixels through the SAME PhotoTransform the preprocessing produced
 * (photoToModel), then each Grad-CAM map (paper eq. 1–2) is scored with the pointing game
 * and AUPR from src/core/metrics.
 */
import { averagePrecision, mapPeaks, pointingGame, pointingGameBoxes, type PixelBox } from '../../../src/core/metrics/index';
import { photoToModel } from '../../../src/core/preprocess/index';
import type { PhotoTransform } from '../../../src/core/types';

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

/** Per-image localization outcome for one label. */
export interface LocalizationSample {
  stem: string;
  label: string;
  /** 'mask' or 'boxes' */
  source: 'mask' | 'boxes';
  hit: boolean;
  /** the map has no positive value (Grad-CAM's ReLU removed everything): it points nowhere */
  emptyMap: boolean;
  /** hit probability of a random peak in the FOV ({@link pointingChance}) */
  chance: number;
  /** AUPR of the map against the mask (masks only) */
  ap?: number;
  /** fraction of model pixels that are lesion (the AP of a random map) */
  prevalence?: number;
}

export function scoreAgainstMask(stem: string, label: string, map: Float32Array, S: number, mask: Uint8Array, tolerancePx: number, fov?: ArrayLike<number>): LocalizationSample | null {
  let fg = 0;
  for (let i = 0; i < mask.length; i++) fg += mask[i];
  if (fg === 0) return null; // lesion too small/outside the crop to exist on the model grid
  return {
    stem,
    label,
    source: 'mask',
    hit: pointingGame(map, S, S, mask, tolerancePx),
    emptyMap: mapPeaks(map).length === 0,
    chance: pointingChance(S, tolerancePx, { mask }, fov),
    ap: averagePrecision(map, mask),
    prevalence: fg / mask.length,
  };
}

export function scoreAgainstBoxes(stem: string, label: string, map: Float32Array, S: number, boxes: PixelBox[], tolerancePx: number, fov?: ArrayLike<number>): LocalizationSample | null {
  if (boxes.length === 0) return null;
  return {
    stem,
    label,
    source: 'boxes',
    hit: pointingGameBoxes(map, S, S, boxes, tolerancePx),
    emptyMap: mapPeaks(map).length === 0,
    chance: pointingChance(S, tolerancePx, { boxes }, fov),
  };
}

/** Aggregate per label: hit rate, n, mean AP, mean prevalence (random-map AP baseline). */
export interface LocalizationSummary {
  label: string;
  source: string;
  n: number;
  hits: number;
  /** maps with no positive evidence (counted as misses) */
  emptyMaps: number;
  pointingGame: number;
  /** mean chance hit rate of a random peak in the FOV: the pointing game's baseline */
  chance: number;
  meanAp?: number;
  meanPrevalence?: number;
}

export function summariseLocalization(samples: readonly LocalizationSample[]): LocalizationSummary[] {
  const byKey = new Map<string, LocalizationSample[]>();
  for (const s of samples) {
    const k = `${s.label}\u0000${s.source}`;
    const list = byKey.get(k) ?? [];
    list.push(s);
    byKey.set(k, list);
  }
  const out: LocalizationSummary[] = [];
  for (const list of byKey.values()) {
    const hits = list.filter((s) => s.hit).length;
    const aps = list.map((s) => s.ap).filter((v): v is number => v !== undefined && Number.isFinite(v));
    const prev = list.map((s) => s.prevalence).filter((v): v is number => v !== undefined);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    out.push({
      label: list[0].label,
      source: list[0].source,
      n: list.length,
      hits,
      emptyMaps: list.filter((s) => s.emptyMap).length,
      pointingGame: hits / list.length,
      chance: mean(list.map((s) => s.chance)),
      meanAp: aps.length ? mean(aps) : undefined,
      meanPrevalence: prev.length ? mean(prev) : undefined,
    });
  }
  return out;
}

/**
 * The default tolerance: 0.1 optic-disc diameter in model pixels. The disc is ≈ 0.155 of the
 * FOV diameter (shared/data/lesion-stats.md); the crop side is the FOV diameter × (1 + 2·margin).
 */
export function defaultTolerancePx(inputSize: number, fovMargin: number): number {
  const fovDiameterPx = inputSize / (1 + 2 * fovMargin);
  return Math.round(0.1 * 0.155 * fovDiameterPx * 10) / 10;
}
