/**
 * Localization metrics for explanation maps (Grad-CAM, paper eq. 1–2) against expert
 * lesion annotations.
 *
 * Pointing game (Zhang et al., "Top-down neural attention by excitation backprop", ECCV
 * 2016): a hit when the map's maximum lies on the object, up to a tolerance of a few
 * pixels (their 15 px at 224²) because a coarse map cannot be more precise than its grid.
 * We state the tolerance in pixels of the map; 0.1 disc diameter ≈ 8 px at 512².
 *
 * Peak semantics: if several pixels share the maximum, EVERY one of them must be within
 * tolerance (a flat map cannot score by luck). A map whose maximum is not > 0 (all zero
 * after Grad-CAM's ReLU, or NaN) points nowhere and is a miss.
 */

/** An axis-aligned box in map pixel coordinates, continuous: pixel (i, j) covers [i, i+1). */
export interface PixelBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Indices of the map's maximum (all ties); empty when the maximum is not a positive number. */
export function mapPeaks(map: ArrayLike<number>): number[] {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < map.length; i++) if (map[i] > max) max = map[i];
  if (!(max > 0)) return [];
  const peaks: number[] = [];
  for (let i = 0; i < map.length; i++) if (map[i] === max) peaks.push(i);
  return peaks;
}

function checkMap(map: ArrayLike<number>, w: number, h: number): void {
  if (!(Number.isInteger(w) && Number.isInteger(h) && w > 0 && h > 0) || map.length !== w * h) {
    throw new RangeError(`map of length ${map.length} is not ${w}×${h}`);
  }
}

/** true when some foreground pixel's centre is within `tol` (Euclidean) of pixel (px, py)'s centre. */
function nearMask(mask: ArrayLike<number>, w: number, h: number, px: number, py: number, tol: number): boolean {
  const r = Math.floor(tol);
  const r2 = tol * tol;
  const y0 = Math.max(0, py - r);
  const y1 = Math.min(h - 1, py + r);
  const x0 = Math.max(0, px - r);
  const x1 = Math.min(w - 1, px + r);
  for (let y = y0; y <= y1; y++) {
    const dy = y - py;
    for (let x = x0; x <= x1; x++) {
      const dx = x - px;
      if (dx * dx + dy * dy <= r2 && mask[y * w + x]) return true;
    }
  }
  return false;
}

/**
 * Pointing game against a binary mask on the same grid as the map: the peak must fall
 * inside the mask dilated by a disc of radius `tolerancePx` (pixel centres).
 */
export function pointingGame(map: ArrayLike<number>, w: number, h: number, mask: ArrayLike<number>, tolerancePx: number): boolean {
  checkMap(map, w, h);
  if (mask.length !== w * h) throw new RangeError(`mask of length ${mask.length} is not ${w}×${h}`);
  if (!(tolerancePx >= 0)) throw new RangeError(`tolerance must be >= 0, got ${tolerancePx}`);
  const peaks = mapPeaks(map);
  if (peaks.length === 0) return false;
  return peaks.every((i) => nearMask(mask, w, h, i % w, Math.floor(i / w), tolerancePx));
}

/** Distance from point (x, y) to a box (0 inside). */
function distanceToBox(x: number, y: number, b: PixelBox): number {
  const dx = Math.max(b.x0 - x, 0, x - b.x1);
  const dy = Math.max(b.y0 - y, 0, y - b.y1);
  return Math.hypot(dx, dy);
}

/**
 * Pointing game against boxes (e.g. CODRAS `boxes.csv` mapped to model pixels): the peak
 * pixel's centre must lie within `tolerancePx` of at least one box. With no boxes it is a miss.
 */
export function pointingGameBoxes(map: ArrayLike<number>, w: number, h: number, boxes: readonly PixelBox[], tolerancePx: number): boolean {
  checkMap(map, w, h);
  if (!(tolerancePx >= 0)) throw new RangeError(`tolerance must be >= 0, got ${tolerancePx}`);
  const peaks = mapPeaks(map);
  if (peaks.length === 0 || boxes.length === 0) return false;
  return peaks.every((i) => {
    const cx = (i % w) + 0.5;
    const cy = Math.floor(i / w) + 0.5;
    return boxes.some((b) => distanceToBox(cx, cy, b) <= tolerancePx);
  });
}
