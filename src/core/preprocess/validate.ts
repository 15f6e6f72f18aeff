import { FundusLensError } from '../errors';
import type { PreprocessParams, RgbImage } from '../types';
import { MAX_IMAGE_PIXELS, MIN_IMAGE_SIDE } from './params';

/**
 * Checks that `img` is a well-formed decoded photo the pipeline can handle, before any
 * allocation proportional to its size.
 * @throws FundusLensError 'invalid-image' (malformed buffer or dimensions),
 *   'image-too-small' (a side below 32 px), 'image-too-large' (over 100 megapixels).
 */
export function validateImage(img: RgbImage): void {
  if (img == null || typeof img !== 'object') {
    throw new FundusLensError('invalid-image', 'No image data was given.');
  }
  const { width, height, channels, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new FundusLensError('invalid-image', `The image has invalid dimensions (${String(width)}×${String(height)}).`);
  }
  if (channels !== 3 && channels !== 4) {
    throw new FundusLensError('invalid-image', `The image must have 3 (RGB) or 4 (RGBA) channels, not ${String(channels)}.`);
  }
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new FundusLensError('invalid-image', 'The image pixels must be an 8-bit array.');
  }
  if (data.length === 0 || width === 0 || height === 0) {
    throw new FundusLensError('invalid-image', 'The image is empty: the file may be damaged or not a photo.');
  }
  if (width < MIN_IMAGE_SIDE || height < MIN_IMAGE_SIDE) {
    throw new FundusLensError(
      'image-too-small',
      `The photo is only ${width}×${height} pixels; at least ${MIN_IMAGE_SIDE} pixels per side are needed (a fundus photo is usually over 1000).`,
    );
  }
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new FundusLensError(
      'image-too-large',
      `The photo has ${((width * height) / 1e6).toFixed(0)} megapixels; at most ${MAX_IMAGE_PIXELS / 1e6} are supported. Export a smaller copy from the camera software.`,
    );
  }
  if (data.length !== width * height * channels) {
    throw new FundusLensError(
      'invalid-image',
      `The image data does not match its size: ${data.length} bytes for ${width}×${height}×${channels}.`,
    );
  }
}

/** Checks preprocessing parameters (they usually come from a model's metadata.json). */
export function validateParams(p: PreprocessParams): void {
  const bad = (why: string): never => {
    throw new FundusLensError('model-bad-metadata', `Invalid preprocessing parameters: ${why}.`);
  };
  if (!Number.isInteger(p.inputSize) || p.inputSize < 16 || p.inputSize > 4096) bad(`inputSize ${String(p.inputSize)}`);
  if (!Number.isFinite(p.fovMargin) || p.fovMargin < 0 || p.fovMargin > 1) bad(`fovMargin ${String(p.fovMargin)}`);
  if (p.clahe) {
    const c = p.clahe;
    if (c.channel !== 'lab-l' && c.channel !== 'green') bad(`clahe.channel ${String(c.channel)}`);
    if (!Number.isInteger(c.tileGrid) || c.tileGrid < 1 || c.tileGrid > 64) bad(`clahe.tileGrid ${String(c.tileGrid)}`);
    if (!Number.isFinite(c.clipLimit) || c.clipLimit < 0) bad(`clahe.clipLimit ${String(c.clipLimit)}`);
  }
}
