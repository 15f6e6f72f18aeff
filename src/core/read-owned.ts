/**
 * Read-backs the caller may write to. analyze() masks its maps in place and hands them out as the
 * result; the copy it made of every read-back before masking (a `slice` per label map, a copy of the
 * combined map) was ~7 MB per analysis with k = 2, and in Chromium every fresh array of ≥ 1 MB is new
 * pages (bench/README.md, session 11: ~3.9 ms per MB on this VM).
 *
 * Whether `data()` returns a private copy is a backend detail tfjs does not expose: wasm slices its heap
 * (a copy every time), the cpu backend returns the tensor's own storage, WebGL and WebGPU return an array
 * they keep and return again. So it is probed once per backend instance: two reads of one tensor that give
 * the same array mean "not a copy".
 */
import * as tf from '@tensorflow/tfjs';

const copies = new WeakMap<object, boolean>();

/** True when this backend's read-backs are private copies (probed once per backend instance). */
export function readBackIsCopy(): boolean {
  const backend = tf.backend();
  let known = copies.get(backend);
  if (known === undefined) {
    const t = tf.tensor1d([0]);
    try {
      known = t.dataSync() !== t.dataSync();
    } finally {
      t.dispose();
    }
    copies.set(backend, known);
  }
  return known;
}

/**
 * `t.data()` as a Float32Array that belongs to the caller: the read-back itself where the backend
 * returns a copy, otherwise a copy of it. The tensor may be used (and disposed) afterwards as usual.
 */
export async function readOwned(t: tf.Tensor): Promise<Float32Array> {
  const owned = readBackIsCopy();
  const data = (await t.data()) as Float32Array;
  return owned ? data : new Float32Array(data);
}
