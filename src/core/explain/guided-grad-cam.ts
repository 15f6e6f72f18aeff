/**
 * Guided Grad-CAM — Selvaraju et al. 2017 §3, Jiang et al. §II.D eq. 3:
 *
 *   eq. 3   I^c_Guided-Grad-CAM = I^c_Guided-Backprop · I^c_Grad-CAM     (point-wise)
 *
 * Grad-CAM says WHERE (class-discriminative, coarse); guided backprop adds fine detail
 * (pixel-sharp, but nearly class- and weight-agnostic — see guided-backprop.ts). Both factors
 * are on the model-input grid; the product is renormalised to 0..1 per label for display.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * eq. 3 for every target.
 * @param saliency [T, s, s] guided-backprop saliency (guided-backprop.guidedSaliency), 0..1.
 * @param cams [T, s, s] Grad-CAM maps (grad-cam.gradCam), 0..1.
 * @returns [T, s, s] in 0..1, each divided by its own peak (all-zero stays zero). Inputs are not disposed.
 */
export function guidedGradCam(saliency: tf.Tensor3D, cams: tf.Tensor3D): tf.Tensor3D {
  if (saliency.shape.join() !== cams.shape.join()) {
    throw new RangeError(`guidedGradCam: saliency [${saliency.shape}] and Grad-CAM [${cams.shape}] differ`);
  }
  return tf.tidy(() => {
    const t = cams.shape[0];
    const prod = tf.mul(saliency, cams);
    const peak = tf.reshape(tf.max(tf.reshape(prod, [t, -1]), 1), [t, 1, 1]);
    return tf.div(prod, tf.maximum(peak, 1e-12)) as tf.Tensor3D;
  });
}
