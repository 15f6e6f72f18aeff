/**
 * Public surface of the model package: builders, metadata, the FundusModel wrapper,
 * bundle load/save and the layer-by-layer graph walker.
 */
export { GRADCAM_LAYER_DEFAULT, HEAD_MAPS_LAYER, LOGITS_LAYER, buildPaperResNet50, buildCompactResNet, type CompactOptions } from './builders';
export { defaultLabels, DEFAULT_THRESHOLD } from './labels';
export { validateMetadata, makeMetadata, METADATA_SCHEMA_VERSION } from './metadata';
export { wrapModel, type FundusModel } from './fundus-model';
export { applyLayers, prepareBatchNorm, releaseBatchNorm, type ApplyLayersOptions } from './graph';
export {
  loadBundle,
  prefetchBundle,
  saveBundle,
  memoryBundle,
  METADATA_FILE,
  MODEL_FILE,
  type BundleReader,
  type BundleWriter,
} from './bundle';
export { sha256Hex, sha256HexAsync } from './sha256';
export { modelStats, type ModelStats } from './stats';
