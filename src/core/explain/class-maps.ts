/**
 * One entry point for the class-activation map of a {@link CamMethod}, so analyze(), the
 * worker's warm-up and the evaluation report cannot pick different code for the same name.
 */
import type * as tf from '@tensorflow/tfjs';
import type { CamMethod } from '../types';
import { gradCamFromFeatures } from './grad-cam';
import { hiResCamFromFeatures } from './hires-cam';
import type { ExplainTarget } from './targets';

/**
 * Grad-CAM (eq. 1–2) or HiResCAM maps for every target from features A.
 * @param a [1, h, w, k]; not disposed. @returns cams [T, outSize, outSize] in 0..1 and peaks [T].
 * @param z the head's first-convolution output kept by explain/headForwardKeepingZ (not disposed); both methods use it
 */
export function classMapsFromFeatures(
  method: CamMethod,
  head: tf.LayersModel,
  a: tf.Tensor4D,
  targets: readonly ExplainTarget[],
  outSize: number,
  z?: tf.Tensor4D,
): { cams: tf.Tensor3D; peaks: tf.Tensor1D } {
  if (method === 'hirescam') return hiResCamFromFeatures(head, a, targets, outSize, z);
  if (method === 'gradcam') return gradCamFromFeatures(head, a, targets, outSize, z);
  throw new RangeError(`unknown class-activation method '${String(method)}' (gradcam | hirescam)`);
}
