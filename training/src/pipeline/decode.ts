/**
 * Node-side photo decoding for training (sharp). EXIF orientation is applied, like the app's
 * browser decoder does, so that training and serving see the same pixels.
 */
import sharp from 'sharp';
import type { RgbImage } from '../../../src/core/types';

/**
 * Decodes a photo to 8-bit RGB. `maxSide` caps the longest side with an area-averaging shrink
 * (never plain bilinear: microaneurysms are 2–3 px at a 512² model input and aliasing would
 * erase them); 0 = full size. The cap only saves decode time on 12 MP photos: keep it several
 * times the model input so core preprocessing still does the final resize, as at serving time.
 */
export async function decodeImage(file: string, maxSide = 0): Promise<RgbImage> {
  let img = sharp(file, { failOn: 'error' }).rotate();
  if (maxSide > 0) {
    const meta = await sharp(file).metadata();
    const w = meta.autoOrient?.width ?? meta.width ?? 0;
    const h = meta.autoOrient?.height ?? meta.height ?? 0;
    if (Math.max(w, h) > maxSide) {
      img = img.resize({ width: w >= h ? maxSide : undefined, height: h > w ? maxSide : undefined, kernel: 'mitchell', fastShrinkOnLoad: false });
    }
  }
  const { data, info } = await img.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Reads a 0/255 lesion mask PNG at its own size as 0/1. */
export async function decodeMask(file: string): Promise<{ width: number; height: number; data: Uint8Array }> {
  const { data, info } = await sharp(file).greyscale().raw().toBuffer({ resolveWithObject: true });
  const out = new Uint8Array(info.width * info.height);
  for (let i = 0; i < out.length; i++) out[i] = data[i * info.channels] > 127 ? 1 : 0;
  return { width: info.width, height: info.height, data: out };
}
