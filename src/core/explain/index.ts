export { logitTarget, logitTargets, diagonalObjective, type ExplainTarget } from './targets';
export {
  gradCam,
  gradCamFromFeatures,
  gradCamFromFeaturesFull,
  gradCamWeights,
  weightedActivation,
  upsampleAndNormalise,
  upsampleClassMaps,
  type SplitModel,
  type GradCamTensors,
} from './grad-cam';
export { gradCamWeightsFast, headForwardKeepingZ, type HeadForward } from './grad-cam-fast';
export { guidedBackprop, guidedChannelSum, guidedRelu, guidedSaliency, guidedSaliencyMaps, saliencyFromChannelSums, activationBytes, defaultLabelsPerPass, type GuidedBackpropOptions } from './guided-backprop';
export { recordFeatures, guidedBackwardFromRecord, guidedHeadSeeds, guidedSaliencyRecorded, type FeaturesRecord, type RecordedSaliencyOptions } from './guided-pass';
export { guidedGradCam } from './guided-grad-cam';
export { combineMaps, combineArrays } from './combine';
export { hiResCamFromFeatures, hiResCamMaps } from './hires-cam';
export { classMapsFromFeatures } from './class-maps';
