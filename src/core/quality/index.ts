/**
 * Gradability gate: is this photo good enough for the model (and a grader) to read?
 * Each check maps one measure to a reason a photographer can act on. Thresholds were
 * calibrated on the real photos in shared/data (20 IDRiD + 516 CODRAS/IDRiD, all gradable
 * in their datasets) and on degraded copies (blur, under/over-exposure, noise) — see
 * quality.test.ts and THRESHOLDS below for the measured ranges.
 */
import type { FieldOfView, QualityCode, QualityResult, RgbImage } from '../types';
import { detectFovWithDiagnostics, type FovDiagnostics } from '../preprocess/fov';
import { validateImage } from '../preprocess/validate';
import { measureQuality, type QualityMeasures } from './measures';

export { EDGE_SHARPNESS, edgeSharpness, measureQuality, QUALITY_SIZE, type EdgeSharpnessParams, type QualityMeasures } from './measures';
export { blurImage, exposeImage, noisyImage } from './degrade';

/**
 * Decision thresholds, calibrated on all 536 real photos (20 IDRiD + 516 CODRAS/IDRiD at
 * 1072 px width, all gradable in their datasets) and on degraded copies of every 8th
 * (67 photos × blur σ2, blur σ3, blur σ2/σ3 + noise σ1/2/3, exposure ×0.2, over-exposure,
 * noise σ15; blur and noise σ in grey levels / px at 1072 px). Measured ranges:
 *   meanLuma: originals 37.7–142; ×0.2 exposure 7.5–28.1          -> too-dark below 30
 *   edgeSharpness (edge width at the strongest edges, see measures.ts): originals 1.15–2.02
 *     (5th percentile 1.45, median 1.60); blur σ2 1.24–1.45, σ3 1.15–1.31; the same copies
 *     with noise σ1–3 read the same (σ2 1.22–1.46, σ3 1.15–1.31) thanks to the noise
 *     correction; noise σ2–3 alone 1.35–1.79; σ1.5 blur + noise σ2 1.27–1.55
 *     -> blurred below 1.415. This flags 6 originals, all visibly out of focus or hazy over
 *        much of the field (codras_0071, 0084, 0091, 0098, 0117, 0141 = 1.398; the next is
 *        1.421). Any threshold in 1.399–1.421 gives the same counts below; 1.415 also catches
 *        codras_0391 blurred σ2 + noise σ2 (1.411) in quality.test.ts — margins are thin. The
 *        originals' own sharpness spreads as wide as σ2 blur moves a photo, so no threshold
 *        separates them fully: σ2 (+ noise) copies 258/268 caught, σ3 (+ noise) 268/268.
 *   detailRatio (laplacian / band-pass): originals 1.05–3.47 (a few soft but gradable
 *     photos below 1.3); Gaussian blur σ = 2–3 px (1.2–1.8 px at 512²) 0.53–0.86, but
 *     blur + noise σ1–3 0.88–6.3: noise restores fine-scale energy
 *   noise σ (finest-scale texture): originals 0.26–1.07, blurred copies 0.08–0.13
 *     -> also blurred when detailRatio < 1.3 AND fine texture < 0.2 (both say "no fine detail")
 *        AND edgeSharpness < 1.475 (plain blur σ2 ≤ 1.454; clean synthetic renderings with no
 *        grain but sharp edges, 1.50–1.67, are not blurred); both rules only when not noisy
 *   noise σ: +σ15 Gaussian noise 5.7–6.1                           -> noisy above 2.5
 *   brightFraction: originals ≤ 0.006; meanLuma originals ≤ 142     -> too-bright above 0.05 / 160
 *   clippedFraction (any channel ≥ 250): originals ≤ 0.28 (red clips in bright photos),
 *     over-exposed 0.79–1; clipped2Fraction (≥ 2 channels): originals ≤ 0.021
 *                                                                  -> saturated above 0.5 / 0.05
 *   redGreenRatio: originals 1.54–3.89; grey-world scenes ≈ 1       -> not-fundus below 1.25
 * Result with these thresholds: 530/536 originals gradable (the 6 soft ones: blurred);
 * blur and blur + noise copies: 526/536 caught as blurred (98 %; 10 σ2 + noise copies of 4
 * sharp photos pass; σ1.5 + noise σ2: 24/67 caught);
 * the exposure and noise copies caught with their own reason (over-exposure: gain
 * max(2.5, 230 / original mean luma)); demo samples 01–06 gradable, 07 too dark, 08 blurred.
 */
export const THRESHOLDS = Object.freeze({
  minMeanLuma: 30,
  maxDarkFraction: 0.35,
  maxMeanLuma: 160,
  maxBrightFraction: 0.05,
  maxSaturatedFraction: 0.01,
  maxClipped2Fraction: 0.05,
  maxClippedFraction: 0.5,
  minContrast: 0.06,
  minDetailRatio: 1.3,
  maxFineTextureIfBlurred: 0.2,
  minEdgeSharpness: 1.415,
  maxEdgeSharpnessIfNoDetail: 1.475,
  maxNoise: 2.5,
  minRedGreenRatio: 1.25,
  maxBlueRedRatio: 0.8,
  minFovDiameterPx: 400,
  minCircleVisibleFraction: 0.6,
});

const MESSAGES: Record<QualityCode, string> = {
  'no-fov': 'No retina found — is this a fundus photo? The round, dark-bordered retina image was not detected.',
  'not-fundus': 'The colours do not look like a retina — is this a fundus photo?',
  'too-dark': 'Too dark — increase the flash or illumination and retake.',
  'too-bright': 'Too bright — reduce the flash or illumination and retake.',
  saturated: 'Overexposed: parts of the image are burnt out — reduce the flash and retake.',
  blurred: 'Blurred — refocus and retake.',
  'low-contrast': 'Very low contrast (hazy image, e.g. cataract or a dirty lens) — clean the lens and retake.',
  noisy: 'Very noisy (grainy) — use more light or a lower ISO and retake.',
  'too-small': 'The retina image is too small for analysis — use the camera’s full resolution.',
  'fov-cut': 'Much of the retina is cut off — centre the eye in the frame and retake.',
};

/** Human-readable message for a quality code (English; the UI may translate by code). */
export function qualityMessage(code: QualityCode): string {
  return MESSAGES[code];
}

/**
 * Score of one check, 0.5 exactly at the threshold: 1 when comfortably good (at `good`),
 * 0 when hopeless (at `bad`). Works for both directions (good > bad or good < bad).
 */
function soft(value: number, threshold: number, good: number, bad: number): number {
  if (!Number.isFinite(value)) return 0;
  const side = (good - threshold) * (value - threshold) >= 0;
  if (side) return Math.min(1, 0.5 + (0.5 * (value - threshold)) / (good - threshold));
  return Math.max(0, (0.5 * (value - bad)) / (threshold - bad));
}

function verdict(codes: QualityCode[], scores: number[], measures: Record<string, number>): QualityResult {
  const unique = [...new Set(codes)];
  let score = scores.length ? Math.min(...scores) : 0;
  // Gradable means every check passed; keep score and verdict consistent at the boundary.
  if (unique.length) score = Math.min(score, 0.49);
  else score = Math.max(score, 0.5);
  for (const k of Object.keys(measures)) if (!Number.isFinite(measures[k])) measures[k] = -1;
  return {
    gradable: unique.length === 0,
    score: Math.round(score * 1000) / 1000,
    reasons: unique.map(qualityMessage),
    codes: unique,
    measures,
  };
}

/**
 * Assesses whether a photo is gradable.
 * @param img decoded photo
 * @param fov the FOV if already detected (e.g. to share one detection with preprocess())
 * @returns verdict with score 0..1, actionable reasons and their codes, and the raw measures
 * @throws FundusLensError only for malformed/too small/too large images (see validateImage);
 *   every photo that decodes gets a verdict.
 */
export function assessQuality(img: RgbImage, fov?: FieldOfView): QualityResult {
  validateImage(img);
  let diag: FovDiagnostics | null = null;
  let f = fov;
  if (!f) ({ fov: f, diag } = detectFovWithDiagnostics(img));
  const measures: Record<string, number> = {
    fovFound: f.found ? 1 : 0,
    fovCoverage: f.coverage,
    fovCircleVisibleFraction: f.circleVisibleFraction,
    fovDiameterPx: f.found ? 2 * f.radius : 0,
  };
  if (diag) {
    measures.fovIoU = diag.iou;
    measures.fovSurroundRatio = diag.surroundRatio;
    measures.fovAngularCoverage = diag.angularCoverage;
  }
  if (!f.found) return verdict(['no-fov'], [0], measures);

  const m: QualityMeasures = measureQuality(img, f);
  Object.assign(measures, m);
  const detailRatio = m.sharpness > 0 ? m.laplacian / m.sharpness : 0;
  measures.detailRatio = detailRatio;

  const T = THRESHOLDS;
  const codes: QualityCode[] = [];
  const scores: number[] = [];
  const check = (ok: boolean, code: QualityCode, s: number) => {
    scores.push(s);
    if (!ok) codes.push(code);
  };

  const diameter = 2 * f.radius;
  check(diameter >= T.minFovDiameterPx, 'too-small', soft(diameter, T.minFovDiameterPx, 1000, 100));
  check(f.circleVisibleFraction >= T.minCircleVisibleFraction, 'fov-cut', soft(f.circleVisibleFraction, T.minCircleVisibleFraction, 0.85, 0.2));
  check(m.meanLuma >= T.minMeanLuma && m.darkFraction <= T.maxDarkFraction, 'too-dark',
    Math.min(soft(m.meanLuma, T.minMeanLuma, 60, 5), soft(m.darkFraction, T.maxDarkFraction, 0.05, 0.9)));
  const overexposed = m.meanLuma > T.maxMeanLuma || m.brightFraction > T.maxBrightFraction;
  check(!overexposed, 'too-bright', Math.min(soft(m.meanLuma, T.maxMeanLuma, 130, 240), soft(m.brightFraction, T.maxBrightFraction, 0.005, 0.6)));
  const burnt =
    m.saturatedFraction > T.maxSaturatedFraction || m.clipped2Fraction > T.maxClipped2Fraction || m.clippedFraction > T.maxClippedFraction;
  check(!burnt, 'saturated', Math.min(
    soft(m.saturatedFraction, T.maxSaturatedFraction, 0, 0.2),
    soft(m.clipped2Fraction, T.maxClipped2Fraction, 0, 0.6),
    soft(m.clippedFraction, T.maxClippedFraction, 0.1, 1.01),
  ));
  const noisy = m.noise > T.maxNoise;
  check(!noisy, 'noisy', soft(m.noise, T.maxNoise, 1, 10));
  // Two signs of blur. Wide edges: what focus does to the strongest edges, which sensor grain
  // hardly touches (so a blurred photo with grain is caught too). No fine detail at all and
  // edges on the soft side: a smoothed photo without grain (clearly sharp edges overrule it, as
  // in a clean rendering or a strongly denoised photo). Both are judged only on a photo that is
  // not too noisy: heavy noise adds fine detail, and the edge measure's noise correction was
  // fitted for grain up to σ ≈ 1.2 (a noisy photo is refused with its own reason anyway).
  const softEdges = !noisy && m.edgeSharpness < T.minEdgeSharpness;
  const noFineDetail = !noisy && detailRatio < T.minDetailRatio && m.noise < T.maxFineTextureIfBlurred &&
    m.edgeSharpness < T.maxEdgeSharpnessIfNoDetail;
  const edgeScore = soft(m.edgeSharpness, T.minEdgeSharpness, 1.7, 1.1);
  const detailScore = Math.max(soft(detailRatio, T.minDetailRatio, 1.8, 0.5), soft(m.noise, T.maxFineTextureIfBlurred, 0.4, 0.05));
  check(!softEdges && !noFineDetail, 'blurred', noisy ? 0.5 : Math.min(edgeScore, detailScore));
  check(m.contrast >= T.minContrast, 'low-contrast', soft(m.contrast, T.minContrast, 0.15, 0.01));
  // Clipping distorts colour ratios: judge "is it a retina" only on a usable exposure.
  if (!burnt && !overexposed && m.meanLuma >= T.minMeanLuma / 2) {
    const redOk = m.redGreenRatio >= T.minRedGreenRatio && m.blueRedRatio <= T.maxBlueRedRatio;
    check(redOk, 'not-fundus', Math.min(soft(m.redGreenRatio, T.minRedGreenRatio, 1.6, 0.9), soft(m.blueRedRatio, T.maxBlueRedRatio, 0.5, 1.2)));
  }
  return verdict(codes, scores, measures);
}
