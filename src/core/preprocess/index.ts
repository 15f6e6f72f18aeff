/**
 * Preprocessing (paper II.B): find the retina, crop it to a square around the FOV circle,
 * area-resample to the model size, black out everything outside the FOV (burnt-in text,
 * camera masks), CLAHE, scale to [0, 1]. Also the model<->photo transform that puts every
 * overlay back on the original photo.
 */
import * as tf from '@tensorflow/tfjs';
import type { FieldOfView, PhotoTransform, PreprocessParams, RgbImage } from '../types';
import { clahe } from './clahe';
import { lightness8, replaceLightness } from './colour';
import { detectFov } from './fov';
import { DEFAULT_PREPROCESS } from './params';
import { resampleArea } from './resample';
import { makeTransform, photoToModel } from './transform';
import { validateImage, validateParams } from './validate';

export { DEFAULT_CLAHE, DEFAULT_PREPROCESS, FOV_WORK_SIDE, MAX_IMAGE_PIXELS, MIN_IMAGE_SIDE } from './params';
export { validateImage, validateParams } from './validate';
export { detectFov, detectFovWithDiagnostics, fovFromCircle, wholeFrameFov, type FovDiagnostics } from './fov';
export { makeTransform, modelToPhoto, photoToModel } from './transform';
export { clahe } from './clahe';
export { resampleArea } from './resample';

/**
 * FOV mask on the model grid (row-major inputSize², 1 inside, 0 outside, anti-aliased
 * edges): the FOV circle intersected with the photo frame (just the frame when no FOV was
 * found). Useful to mask explanation maps too.
 */
export function fovMask(fov: FieldOfView, t: PhotoTransform): Float32Array {
  const S = t.inputSize;
  const m = new Float32Array(S * S);
  // Fraction of each model pixel that lies on the photo: the padding outside is not retina.
  const [u0, v0] = photoToModel(t, 0, 0);
  const [u1, v1] = photoToModel(t, t.photoWidth, t.photoHeight);
  const cover = (a: number, lo: number, hi: number) => Math.max(0, Math.min(a + 1, hi) - Math.max(a, lo));
  const colCover = new Float32Array(S);
  for (let u = 0; u < S; u++) colCover[u] = cover(u, u0, u1);
  const [cu, cv] = photoToModel(t, fov.cx, fov.cy);
  const r = fov.radius / t.scale;
  for (let v = 0; v < S; v++) {
    const rowCover = cover(v, v0, v1);
    const dy = v + 0.5 - cv;
    for (let u = 0; u < S; u++) {
      const inCircle = fov.found ? Math.min(1, Math.max(0, r - Math.hypot(u + 0.5 - cu, dy) + 0.5)) : 1;
      m[v * S + u] = inCircle * rowCover * colCover[u];
    }
  }
  return m;
}

/** Output of preprocessPixels: the model input as plain data, before it becomes a tensor. */
export interface PreprocessedPixels {
  /** interleaved RGB of the crop, 0..255 floats, FOV-masked, before CLAHE */
  rgb: Float32Array;
  /** FOV mask on the model grid */
  mask: Float32Array;
  /** CLAHE'd channel (L* as 0..255, or green), null when CLAHE is off */
  equalised: Uint8Array | null;
  transform: PhotoTransform;
  fov: FieldOfView;
}

/** The CPU half of preprocess(): geometry, resampling, masking and CLAHE, no tensors. */
export function preprocessPixels(img: RgbImage, params: PreprocessParams = DEFAULT_PREPROCESS, fov?: FieldOfView): PreprocessedPixels {
  validateImage(img);
  validateParams(params);
  const f = fov ?? detectFov(img);
  const t = makeTransform(f, params, img.width, img.height);
  const S = t.inputSize;
  const rgb = resampleArea(img, S, S, t.scale, t.offsetX, t.offsetY);
  const mask = fovMask(f, t);
  // Mask before CLAHE: burnt-in text must not enter the tile histograms either.
  for (let i = 0; i < S * S; i++) {
    const m = mask[i];
    if (m !== 1) { rgb[i * 3] *= m; rgb[i * 3 + 1] *= m; rgb[i * 3 + 2] *= m; }
  }
  let equalised: Uint8Array | null = null;
  if (params.clahe) {
    const { channel, tileGrid, clipLimit } = params.clahe;
    let src: Uint8Array;
    if (channel === 'lab-l') src = lightness8(rgb, S * S);
    else {
      src = new Uint8Array(S * S);
      for (let i = 0; i < S * S; i++) src[i] = Math.min(255, Math.max(0, Math.round(rgb[i * 3 + 1])));
    }
    equalised = clahe(src, S, S, tileGrid, clipLimit);
  }
  return { rgb, mask, equalised, transform: t, fov: f };
}

/**
 * Turns a decoded photo into the model input.
 * @param img decoded photo (any size from 32 px per side up to 100 MP; RGBA accepted)
 * @param params usually `metadata.preprocess` of the loaded model
 * @param fov a FOV already detected (e.g. by the quality gate) to avoid detecting twice
 * @returns `input`: [S, S, 3] float32 in [0, 1], zero outside the FOV — the caller disposes it;
 *   `transform`: model<->photo mapping; `fov`: the FOV used.
 * @throws FundusLensError for malformed, too small or too large images, or bad parameters.
 */
export function preprocess(
  img: RgbImage,
  params: PreprocessParams = DEFAULT_PREPROCESS,
  fov?: FieldOfView,
): { input: tf.Tensor3D; transform: PhotoTransform; fov: FieldOfView } {
  const px = preprocessPixels(img, params, fov);
  const S = px.transform.inputSize;
  const input = tf.tidy(() => {
    const rgb = tf.div(tf.tensor2d(px.rgb, [S * S, 3]), 255) as tf.Tensor2D;
    const mask = tf.tensor2d(px.mask, [S * S, 1]);
    let out: tf.Tensor2D;
    if (!params.clahe || !px.equalised) {
      out = rgb;
    } else if (params.clahe.channel === 'lab-l') {
      const newL = tf.mul(tf.tensor2d(px.equalised, [S * S, 1], 'float32'), 100 / 255) as tf.Tensor2D;
      out = replaceLightness(rgb, newL);
    } else {
      const [r, , b] = tf.split(rgb, 3, 1);
      const g = tf.div(tf.tensor2d(px.equalised, [S * S, 1], 'float32'), 255);
      out = tf.concat([r, g, b], 1) as tf.Tensor2D;
    }
    // Re-mask: CLAHE lifts black in mostly-black border tiles.
    return tf.reshape(tf.mul(out, mask), [S, S, 3]) as tf.Tensor3D;
  });
  return { input, transform: px.transform, fov: px.fov };
}
