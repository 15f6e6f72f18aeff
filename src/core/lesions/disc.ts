/**
 * Optic-disc localisation, and keeping lesion outlines off the disc.
 *
 * Grad-CAM of a fundus classifier often peaks on the optic disc — the brightest, most
 * structured spot of the photo — and the outlines traced from it (paper §III, Fig. 6c) would
 * then circle the disc and call it an exudate or a haemorrhage. None of the product's lesion
 * types is graded on the disc itself (lesion-stats.md: lesions lie 1.3–4.6 disc diameters from
 * the disc centre), and optic-disc removal is a classic step of exudate detection. So the
 * OUTLINES skip the disc; the heat maps stay as they are (they show where the model looks).
 *
 * The detector is the classic brightness one: on a small copy, the mean brightness over a
 * window of about one disc diameter (≈ 0.155 × the field-of-view diameter) is highest on the
 * disc, because the disc is the only bright spot that large — exudates are bright too, but
 * small and scattered, so a disc-sized window averages them away.
 */
import type { FieldOfView, OpticDisc, Outline, PhotoTransform, RgbImage } from '../types';
import { kthSmallest } from '../preprocess/select';
import { inRing } from './outlines';
import { scratchSlot } from '../scratch';

// the detector's per-photo temporaries: reused memory (scratch.ts), none of it outlives a call
const V = scratchSlot(), IN_FOV = scratchSlot(), IV = scratchSlot(), IM = scratchSlot();
const MEANS = scratchSlot(), SCORE = scratchSlot(), DEV = scratchSlot();

/** Optic-disc diameter as a fraction of the FOV diameter (median over IDRiD, lesion-stats.md). */
export const DISC_FOV_FRACTION = 0.155;
/** Long side of the working copy the detector runs on. */
export const DISC_WORK_SIDE = 256;
/** …and below this contrast (grey levels, 0..255 brightness) neither: IDRiD's discs stand out by 19–76. */
export const MIN_DISC_CONTRAST = 8;
/** A peak closer than this to the FOV centre (fraction of its radius) is taken for the macula, not the disc. */
export const CENTRAL_ZONE = 0.2;
/** Below this confidence (peak contrast in units of the spread of window means) no disc is reported. */
export const MIN_DISC_CONFIDENCE = 2;

/**
 * Finds the optic disc as the brightest disc-sized window inside the (eroded) field of view.
 *
 * Steps: area-sample the photo to a copy whose long side is ~{@link DISC_WORK_SIDE} px;
 * brightness = 0.25 R + 0.6 G + 0.15 B (green carries the disc/background contrast, red is
 * often saturated on the whole retina); subtract a wide background mean (≈ 3 disc diameters)
 * so vignetting does not pull the peak to the FOV centre; average over a window of one disc
 * diameter, inside the FOV only; take the maximum over centres at least half a disc
 * diameter inside the FOV rim (flare sits on the rim).
 *
 * `confidence` is the peak's height above the median of all window means, in units of their
 * spread (1.4826 × MAD): a real disc stands out by 4–10, a featureless retina does not.
 * Returns null — nothing is excluded then — when it is below {@link MIN_DISC_CONFIDENCE} or the
 * peak is less than {@link MIN_DISC_CONTRAST} grey levels above the median window, when
 * the peak lies within {@link CENTRAL_ZONE} FOV radii of the FOV centre (in a macula-centred
 * screening photo that is a macular exudate plaque brighter than the disc, and hiding its
 * outline would be worse than outlining the disc; a disc-centred photo therefore gets no
 * exclusion), or when the image has no usable field of view.
 *
 * `diameter` is the typical disc size for this FOV (0.155 × its diameter), not a measurement.
 * Photo pixels, continuous coordinates (pixel i covers [i, i + 1)). Pure JS, no tensors;
 * a few milliseconds even on a 12 MP photo (it samples at most ~16 pixels per working pixel).
 */
export function detectOpticDisc(image: RgbImage, fov: FieldOfView): OpticDisc | null {
  const W = image.width, H = image.height, ch = image.channels, src = image.data;
  if (!(W > 0 && H > 0) || !(fov.radius > 0)) return null;
  const step = Math.max(1, Math.ceil(Math.max(W, H) / DISC_WORK_SIDE));
  const w = Math.ceil(W / step), h = Math.ceil(H / step);
  // sample at most 4×4 pixels per block: enough for a mean, and bounded time on huge photos
  const sub = Math.max(1, Math.floor(step / 4));
  const v = V.f64(w * h).fill(0);
  const inFov = IN_FOV.f64(w * h).fill(0);
  const cx = fov.cx / step, cy = fov.cy / step, r = fov.radius / step;
  for (let j = 0; j < h; j++) {
    const y0 = j * step, y1 = Math.min(H, y0 + step);
    for (let i = 0; i < w; i++) {
      // a working pixel counts as retina when its centre is inside the FOV circle (a little
      // inside, so the dark rim's blur does not lower the windows next to it)
      const dx = i + 0.5 - cx, dy = j + 0.5 - cy;
      if (Math.sqrt(dx * dx + dy * dy) > r - 1) continue;
      const x0 = i * step, x1 = Math.min(W, x0 + step);
      let s = 0, n = 0;
      for (let y = y0; y < y1; y += sub) {
        let p = (y * W + x0) * ch;
        for (let x = x0; x < x1; x += sub, p += sub * ch) {
          s += 0.25 * src[p] + 0.6 * src[p + 1] + 0.15 * src[p + 2];
          n++;
        }
      }
      v[j * w + i] = n > 0 ? s / n : 0;
      inFov[j * w + i] = 1;
    }
  }
  const dd = DISC_FOV_FRACTION * 2 * r; // disc diameter in working pixels
  const half = Math.max(1, Math.round(dd / 2));
  const bgHalf = Math.max(half + 1, Math.round(1.5 * dd));
  const iv = integral(v, w, h, IV.f64((w + 1) * (h + 1)));
  const im = integral(inFov, w, h, IM.f64((w + 1) * (h + 1)));
  const erode = r - 0.5 * dd;
  const means = MEANS.f64(w * h);
  let nMeans = 0;
  let best = -Infinity, bi = -1, bj = -1;
  const score = SCORE.f64(w * h).fill(NaN);
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const dx = i + 0.5 - cx, dy = j + 0.5 - cy;
      if (Math.sqrt(dx * dx + dy * dy) > erode) continue;
      const nIn = boxSum(im, w, h, i, j, half);
      if (nIn < 1) continue;
      const local = boxSum(iv, w, h, i, j, half) / nIn;
      const nBg = boxSum(im, w, h, i, j, bgHalf);
      const bg = boxSum(iv, w, h, i, j, bgHalf) / nBg;
      const s = local - bg;
      score[j * w + i] = s;
      means[nMeans++] = s;
      if (s > best) { best = s; bi = i; bj = j; }
    }
  }
  if (bi < 0 || nMeans < 16) return null;
  // median and MAD by selection, in place (means and dev are this call's own): the same elements a sort puts there
  const med = kthSmallest(means, nMeans >> 1, nMeans, true);
  const dev = DEV.f64(nMeans);
  for (let k = 0; k < nMeans; k++) dev[k] = Math.abs(means[k] - med);
  const spread = 1.4826 * kthSmallest(dev, nMeans >> 1, nMeans, true);
  const confidence = spread > 0 ? (best - med) / spread : 0;
  if (!(confidence >= MIN_DISC_CONFIDENCE) || !(best - med >= MIN_DISC_CONTRAST)) return null;
  // Sub-pixel centre: score-weighted centroid of the windows near the top (a flat-topped
  // plateau, e.g. a disc larger than the window, would otherwise snap to one of its corners).
  const cut = med + 0.9 * (best - med);
  let sx = 0, sy = 0, sw = 0;
  for (let j = Math.max(0, bj - half); j <= Math.min(h - 1, bj + half); j++)
    for (let i = Math.max(0, bi - half); i <= Math.min(w - 1, bi + half); i++) {
      const s = score[j * w + i];
      if (!(s >= cut)) continue;
      sx += (s - cut) * (i + 0.5); sy += (s - cut) * (j + 0.5); sw += s - cut;
    }
  const ux = sw > 0 ? sx / sw : bi + 0.5, uy = sw > 0 ? sy / sw : bj + 0.5;
  // Screening photos are macula-centred: the disc sits 0.3–0.7 FOV radii from the centre
  // (IDRiD). A disc-sized bright spot AT the centre is the macula — a large exudate plaque,
  // the very lesion the outlines must show (IDRiD_10) — so report no disc rather than hide it.
  if (Math.hypot(ux - cx, uy - cy) < CENTRAL_ZONE * r) return null;
  return { x: ux * step, y: uy * step, diameter: dd * step, confidence };
}

/** Summed-area table with a zero row and column in front: (w + 1) × (h + 1), into `t`. */
function integral(a: Float64Array, w: number, h: number, t: Float64Array): Float64Array {
  t.fill(0, 0, w + 1);
  for (let j = 1; j <= h; j++) t[j * (w + 1)] = 0;
  for (let j = 0; j < h; j++) {
    let row = 0;
    for (let i = 0; i < w; i++) {
      row += a[j * w + i];
      t[(j + 1) * (w + 1) + i + 1] = t[j * (w + 1) + i + 1] + row;
    }
  }
  return t;
}

/** Sum over the (2·half + 1)² window centred on (i, j), clipped to the image. */
function boxSum(t: Float64Array, w: number, h: number, i: number, j: number, half: number): number {
  const x0 = Math.max(0, i - half), x1 = Math.min(w, i + half + 1);
  const y0 = Math.max(0, j - half), y1 = Math.min(h, j + half + 1);
  const W1 = w + 1;
  return t[y1 * W1 + x1] - t[y0 * W1 + x1] - t[y1 * W1 + x0] + t[y0 * W1 + x0];
}

/** Radius of the zeroed circle around the disc centre, in disc diameters. */
export const DISC_EXCLUSION_RADIUS = 0.6;
/** Radius (disc diameters) where the outline weight is back to 1; see {@link discExclusionWeights}. */
export const DISC_EXCLUSION_FADE = 1.0;

/**
 * Weights 0..1 on a `size`×`size` model grid that take the optic disc out of a map before its
 * outlines are traced: 0 within {@link DISC_EXCLUSION_RADIUS} disc diameters of the centre,
 * rising smoothly to 1 at {@link DISC_EXCLUSION_FADE}. The fade matters: a hard cut would
 * leave the rest of a disc-centred blob as a ring around the hole, and the outline of a ring
 * (holes are not drawn) is again a circle around the disc. Real lesions lie ≥ 1.3 disc
 * diameters from the disc centre (lesion-stats.md, p10), so the fade does not touch them.
 * @param into where to write them (size², every element); a new array when absent
 */
export function discExclusionWeights(disc: OpticDisc, transform: PhotoTransform, size = transform.inputSize, into?: Float32Array): Float32Array {
  const out = (into && into.length === size * size ? into : new Float32Array(size * size)).fill(1);
  const px = transform.scale * (transform.inputSize / size); // photo pixels per grid pixel
  const cu = (disc.x - transform.offsetX) / px, cv = (disc.y - transform.offsetY) / px;
  const r0 = (DISC_EXCLUSION_RADIUS * disc.diameter) / px, r1 = (DISC_EXCLUSION_FADE * disc.diameter) / px;
  // only the square around the fade circle differs from 1
  const u0 = Math.max(0, Math.floor(cu - r1)), u1 = Math.min(size - 1, Math.ceil(cu + r1));
  const v0 = Math.max(0, Math.floor(cv - r1)), v1 = Math.min(size - 1, Math.ceil(cv + r1));
  for (let v = v0; v <= v1; v++)
    for (let u = u0; u <= u1; u++) {
      const du = u + 0.5 - cu, dv = v + 0.5 - cv;
      // sqrt, not Math.hypot: within an ulp, and hypot allocated ~1.5 MB per analysis here (its arguments)
      const d = Math.sqrt(du * du + dv * dv);
      const t = Math.min(1, Math.max(0, (d - r0) / (r1 - r0)));
      out[v * size + u] = t * t * (3 - 2 * t);
    }
  return out;
}

/**
 * Whether an outline's ring encloses the photo point (x, y) (even-odd rule). An outline around
 * the disc centre after {@link discExclusionWeights} is the rim of a disc-centred blob — the
 * disc again, drawn as a ring — not a lesion.
 */
export function outlineEnclosesPoint(outline: Outline, x: number, y: number): boolean {
  return inRing(outline.points, x, y);
}
