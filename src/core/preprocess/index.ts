/**
 * Preprocessing (paper II.B): find the retina, crop it to a square around the FOV circle,
 * area-resample to the model size, black out everything outside the FOV (burnt-in text,
 * camera masks), CLAHE, scale to [0, 1]. Also the model<->photo transform that puts every
 * overlay back on the original photo.
 */
import * as tf from '@tensorflow/tfjs';
import type { FieldOfView, PhotoTransform, PreprocessParams, RgbImage } from '../types';
import { clahe } from './clahe';
import { lightness8, replaceLightnessArray } from './colour';
import { detectFov } from './fov';
import { DEFAULT_PREPROCESS } from './params';
import { resampleArea } from './resample';
import { makeTransform, photoToModel } from './transform';
import { validateImage, validateParams } from './validate';
import { scratchSlot } from '../scratch';

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
 * @param into where to write it (inputSize², every element); a new array when absent
 */
export function fovMask(fov: FieldOfView, t: PhotoTransform, into?: Float32Array): Float32Array {
  const S = t.inputSize;
  const m = into && into.length === S * S ? into : new Float32Array(S * S);
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
      const du = u + 0.5 - cu;
      // sqrt, not Math.hypot: same value to the last bit or one ulp, and hypot is several times slower
      const inCircle = fov.found ? Math.min(1, Math.max(0, r - Math.sqrt(du * du + dy * dy) + 0.5)) : 1;
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
  /** linear RGB (0..1) of `rgb`, computed on the way to L* (CLAHE on 'lab-l' only) */
  linear?: Float32Array;
  transform: PhotoTransform;
  fov: FieldOfView;
}

/** The CPU half of preprocess(): geometry, resampling, masking and CLAHE, no tensors. */
export function preprocessPixels(img: RgbImage, params: PreprocessParams = DEFAULT_PREPROCESS, fov?: FieldOfView): PreprocessedPixels {
  return pixels(img, params, fov, false);
}

// preprocessToArray's rgb, mask, linear RGB, L* and equalised channel, which do not outlive it (scratch.ts)
const RGB = scratchSlot(), MASK = scratchSlot(), LINEAR = scratchSlot(), L8 = scratchSlot(), EQUALISED = scratchSlot();

/** preprocessPixels; with `reuse` its arrays are scratch memory, for a caller that keeps none of them. */
function pixels(img: RgbImage, params: PreprocessParams, fov: FieldOfView | undefined, reuse: boolean): PreprocessedPixels {
  validateImage(img);
  validateParams(params);
  const f = fov ?? detectFov(img);
  const t = makeTransform(f, params, img.width, img.height);
  const S = t.inputSize;
  const rgb = resampleArea(img, S, S, t.scale, t.offsetX, t.offsetY, reuse ? RGB.f32(S * S * 3) : undefined);
  const mask = fovMask(f, t, reuse ? MASK.f32(S * S) : undefined);
  // Mask before CLAHE: burnt-in text must not enter the tile histograms either.
  for (let i = 0; i < S * S; i++) {
    const m = mask[i];
    if (m !== 1) { rgb[i * 3] *= m; rgb[i * 3 + 1] *= m; rgb[i * 3 + 2] *= m; }
  }
  let equalised: Uint8Array | null = null;
  let linear: Float32Array | undefined;
  if (params.clahe) {
    const { channel, tileGrid, clipLimit } = params.clahe;
    let src: Uint8Array;
    if (channel === 'lab-l') {
      linear = reuse ? LINEAR.f32(S * S * 3) : new Float32Array(S * S * 3);
      src = lightness8(rgb, S * S, linear, reuse ? L8.u8(S * S) : undefined);
    } else {
      src = new Uint8Array(S * S);
      for (let i = 0; i < S * S; i++) src[i] = Math.min(255, Math.max(0, Math.round(rgb[i * 3 + 1])));
    }
    equalised = clahe(src, S, S, tileGrid, clipLimit, reuse ? EQUALISED.u8(S * S) : undefined);
  }
  return { rgb, mask, equalised, linear, transform: t, fov: f };
}

/**
 * The model input as plain data ([S*S*3] in 0..1, FOV-masked): the colour step after CLAHE
 * (L* replaced keeping a*, b*; or green replaced) and the re-masking (CLAHE lifts black in
 * mostly-black border tiles). Plain typed-array loops: the same formulas as the tfjs ops
 * this replaced (colour.replaceLightness), 5–20× faster on wasm and on a cold start.
 * @param into optional [S*S*3] array to write the input into (every element), else a new one
 */
export function modelInputPixels(px: PreprocessedPixels, params: PreprocessParams, into?: Float32Array): Float32Array {
  const S = px.transform.inputSize;
  const n = S * S;
  const { rgb, mask, equalised } = px;
  if (params.clahe && equalised && params.clahe.channel === 'lab-l') {
    const linear = px.linear ?? (() => {
      const l = new Float32Array(n * 3);
      lightness8(rgb, n, l);
      return l;
    })();
    return replaceLightnessArray(linear, equalised, n, mask, into);
  }
  const out = into ? into.fill(0, 0, n * 3) : new Float32Array(n * 3);
  const green = params.clahe && equalised ? equalised : null;
  for (let i = 0; i < n; i++) {
    const m = mask[i];
    if (m === 0) continue;
    out[i * 3] = Math.fround(rgb[i * 3] / 255) * m;
    out[i * 3 + 1] = Math.fround((green ? green[i] : rgb[i * 3 + 1]) / 255) * m;
    out[i * 3 + 2] = Math.fround(rgb[i * 3 + 2] / 255) * m;
  }
  return out;
}

/**
 * {@link preprocess} without the tensor: the model input as plain data (row-major [S, S, 3],
 * 0..1). The same numbers preprocess() uploads; for callers that keep the input on the CPU
 * (e.g. the app's "preprocessed" view, or a later guided-backprop pass).
 * @param into optional array of params.inputSize² · 3 to write the input into (every element; analyze() passes
 *   memory it reuses from one analysis to the next), else a new one
 */
export function preprocessToArray(
  img: RgbImage,
  params: PreprocessParams = DEFAULT_PREPROCESS,
  fov?: FieldOfView,
  into?: Float32Array,
): { data: Float32Array; transform: PhotoTransform; fov: FieldOfView } {
  if (into && into.length !== params.inputSize * params.inputSize * 3) throw new RangeError(`preprocessToArray: \`into\` holds ${into.length} values, not ${params.inputSize}² · 3`);
  const px = pixels(img, params, fov, true);
  return { data: modelInputPixels(px, params, into), transform: px.transform, fov: px.fov };
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
  const p = preprocessToArray(img, params, fov);
  const S = p.transform.inputSize;
  const input = tf.tensor3d(p.data, [S, S, 3]);
  return { input, transform: p.transform, fov: p.fov };
}
