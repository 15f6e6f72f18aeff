export { traceClassMap, traceOutlines, simplifyRing, DEFAULT_OUTLINE_THRESHOLD, DEFAULT_MIN_OUTLINE_AREA } from './outlines';
export type { ClassMapOutlineOptions, OutlineOptions } from './outlines';
export { CLASS_MAP_LATTICE, classMapLattice, fovMaskOnGrid, sampleOnLattice, upsampleMap, warpMapToPhoto } from './geometry';
export {
  detectOpticDisc,
  discExclusionWeights,
  outlineEnclosesPoint,
  DISC_FOV_FRACTION,
  DISC_EXCLUSION_RADIUS,
  DISC_EXCLUSION_FADE,
} from './disc';
