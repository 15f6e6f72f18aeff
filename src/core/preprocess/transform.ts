/**
 * The similarity transform between model-input pixels and original-photo pixels. Every
 * overlay (heat maps, outlines) is drawn through it, so it is the contract that makes
 * explanations land on the photo where the model looked.
 */
import type { FieldOfView, PhotoTransform, PreprocessParams } from '../types';

/**
 * The square crop for `fov`: centred on the FOV circle, side = diameter × (1 + 2·fovMargin),
 * mapped onto inputSize². A top/bottom-cut FOV keeps its circle centred, so the retina has
 * the same size and position in the model input whatever the camera's aspect ratio; the
 * parts of the square outside the photo are black. Without a FOV (`found: false`) the whole
 * photo is padded to a square.
 */
export function makeTransform(fov: FieldOfView, params: PreprocessParams, photoWidth: number, photoHeight: number): PhotoTransform {
  const S = params.inputSize;
  let side: number, cx: number, cy: number;
  if (fov.found) {
    side = 2 * fov.radius * (1 + params.fovMargin);
    cx = fov.cx;
    cy = fov.cy;
  } else {
    side = Math.max(photoWidth, photoHeight);
    cx = photoWidth / 2;
    cy = photoHeight / 2;
  }
  const scale = side / S;
  return { inputSize: S, photoWidth, photoHeight, scale, offsetX: cx - side / 2, offsetY: cy - side / 2 };
}

/** Model-input coordinates (continuous, pixel u covers [u, u+1)) to photo coordinates. */
export function modelToPhoto(t: PhotoTransform, u: number, v: number): [number, number] {
  return [u * t.scale + t.offsetX, v * t.scale + t.offsetY];
}

/** Photo coordinates to model-input coordinates; the inverse of modelToPhoto. */
export function photoToModel(t: PhotoTransform, x: number, y: number): [number, number] {
  return [(x - t.offsetX) / t.scale, (y - t.offsetY) / t.scale];
}
