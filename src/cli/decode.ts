/** Decoding photos in Node with sharp: any JPEG/PNG/TIFF/WebP, EXIF orientation applied. */
import { statSync } from 'node:fs';
import sharp from 'sharp';
import { FundusLensError } from '../core/errors';
import type { RgbImage } from '../core/types';

/**
 * Decodes `file` to 8-bit sRGB (alpha dropped, EXIF rotation applied, so the pixels are in the
 * orientation a viewer shows). Throws FundusLensError('decode-failed') naming the file.
 */
export async function decodeImage(file: string, data?: Uint8Array): Promise<RgbImage> {
  // sharp calls a 0-byte file an "unsupported image format": say what really happened
  const bytes = data ? data.length : statSync(file, { throwIfNoEntry: false })?.size;
  if (bytes === 0) {
    throw new FundusLensError('decode-failed', `"${file}" is empty (0 bytes): the copy or download did not finish. Copy the photo again.`, file);
  }
  try {
    const { data: px, info } = await sharp(data ?? file, { failOn: 'error' })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels after conversion`);
    return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(px.buffer, px.byteOffset, px.length) };
  } catch (e) {
    throw new FundusLensError(
      'decode-failed',
      `Could not read "${file}" as an image (${(e as Error).message.split('\n')[0]}). Use a JPEG, PNG, TIFF or WebP photo.`,
      file,
    );
  }
}
