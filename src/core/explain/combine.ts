/**
 * The combined explanation of a multi-label result — Jiang et al. §II.D eq. 4:
 *
 *   eq. 4   I_Guided-Grad-CAM = (1/Z) Σ_{c=1..C} I^c_Guided-Grad-CAM
 *
 * Summed over the labels predicted POSITIVE only (a negative label's map explains evidence the
 * model rejected), excluding `healthy` (it has no lesion to show). Z is chosen so the peak of
 * the result is 1 (0..1 for display); the paper leaves Z open.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * eq. 4 over the given maps.
 * @param maps [C, s, s] per-label maps (already restricted to the positive lesion labels); not disposed.
 * @returns [s, s] in 0..1; all zeros when C = 0 or every map is zero.
 */
export function combineMaps(maps: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const [c, h, w] = maps.shape;
    if (c === 0) return tf.zeros([h, w]) as tf.Tensor2D;
    const sum = tf.sum(maps, 0) as tf.Tensor2D;
    return tf.div(sum, tf.maximum(tf.max(sum), 1e-12)) as tf.Tensor2D;
  });
}

/** eq. 4 on plain arrays (e.g. maps already read back from the device), same normalisation. */
export function combineArrays(maps: readonly Float32Array[], length: number): Float32Array {
  const out = new Float32Array(length);
  for (const m of maps) {
    if (m.length !== length) throw new RangeError(`combineArrays: map of length ${m.length}, expected ${length}`);
    for (let i = 0; i < length; i++) out[i] += m[i];
  }
  let peak = 0;
  for (let i = 0; i < length; i++) if (out[i] > peak) peak = out[i];
  if (peak > 0) for (let i = 0; i < length; i++) out[i] /= peak;
  return out;
}
