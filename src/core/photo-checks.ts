/**
 * The photo-only half of an analysis: field of view, gradability verdict and optic disc. No
 * tensors and no model, and a pure function of the pixels, so it can run in a second worker
 * beside the model: analyze()'s `photoChecks` option takes its result (or a promise of it) and
 * then runs the model while the checks are still being computed. On a 2144×1424 photo these
 * checks are 120–200 ms of JS, several times the demo model's forward pass, and on a real GPU
 * the largest part of an analysis (bench/README.md).
 */
import { now } from './clock';
import { detectOpticDisc } from './lesions/disc';
import { detectFov } from './preprocess/fov';
import { assessQuality } from './quality/index';
import type { FieldOfView, OpticDisc, QualityResult, RgbImage } from './types';

/** What {@link photoChecks} found for one photo. Plain data: safe to post between workers. */
export interface PhotoChecks {
  fov: FieldOfView;
  quality: QualityResult;
  /** the optic disc (lesions/detectOpticDisc), used only when a lesion label comes out positive */
  opticDisc: OpticDisc | null;
  /** how long the checks took where they ran (ms) */
  ms: number;
}

/**
 * Runs the checks analyze() would run on `image` itself, with the same functions, so the verdict
 * cannot depend on where it was computed.
 * @throws FundusLensError for malformed, too small or too large images (see validateImage).
 */
export function photoChecks(image: RgbImage): PhotoChecks {
  const t0 = now();
  const fov = detectFov(image);
  const quality = assessQuality(image, fov);
  // ~10 ms; computed even when it will not be needed, since here it costs the model nothing
  const opticDisc = detectOpticDisc(image, fov);
  return { fov, quality, opticDisc, ms: now() - t0 };
}

/** True when two fields of view are the same detection (the checks belong to this photo). */
export function sameFov(a: FieldOfView, b: FieldOfView): boolean {
  return a.found === b.found && a.cx === b.cx && a.cy === b.cy && a.radius === b.radius && a.coverage === b.coverage;
}
