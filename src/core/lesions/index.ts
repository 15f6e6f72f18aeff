export { traceOutlines, simplifyRing, DEFAULT_OUTLINE_THRESHOLD, DEFAULT_MIN_OUTLINE_AREA } from './outlines';
export type { OutlineOptions } from './outlines';
export { fovMaskOnGrid, upsampleMap, warpMapToPhoto } from './geometry';
export {
  detectOpticDisc,
  discExclusionWeights,
  outlineEnclosesPoint,
  DISC_FOV_FRACTION,
  DISC_EXCLUSION_RADIUS,
  DISC_EXCLUSION_FADE,
} from './disc';
