/**
 * Test helpers (Node only): decode real photos from ../shared/data with sharp into the
 * core's RgbImage, downscaled when asked so tests stay fast on a 2-core machine.
 */
import sharp from 'sharp';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RgbImage } from '../core/types';

const here = dirname(fileURLToPath(import.meta.url));
/** ../shared/data next to the checkout (CI lays shared/ beside the clone), or $FUNDUSLENS_DATA. */
export const SHARED_DATA = process.env.FUNDUSLENS_DATA ? resolve(process.env.FUNDUSLENS_DATA) : resolve(here, '../../../shared/data');
export const IDRID = join(SHARED_DATA, 'idrid');
export const CODRAS = join(SHARED_DATA, 'codras-idrid');

export function sharedDataAvailable(): boolean {
  return existsSync(join(IDRID, 'labels.csv'));
}

/** Decode any image file sharp reads, EXIF-rotated, to 3-channel RGB; optional max side. */
/** The CODRAS-IDRiD photos (full paths, sorted), every `every`-th one (the first is always included). */
export function codrasPhotos(every = 1): string[] {
  return readdirSync(join(CODRAS, 'images'))
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .filter((_, i) => i % every === 0)
    .map((f) => join(CODRAS, 'images', f));
}

export async function decodeFile(path: string, maxSide?: number): Promise<RgbImage> {
  let pipeline = sharp(readFileSync(path)).rotate();
  if (maxSide) pipeline = pipeline.resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true });
  const { data, info } = await pipeline.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** Decode a mask PNG to a 0/1 Uint8Array (optionally resized with nearest neighbour). */
export async function decodeMask(path: string, width?: number, height?: number): Promise<{ width: number; height: number; data: Uint8Array }> {
  let pipeline = sharp(readFileSync(path)).greyscale();
  if (width && height) pipeline = pipeline.resize(width, height, { fit: 'fill', kernel: 'nearest' });
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  const out = new Uint8Array(info.width * info.height);
  for (let i = 0; i < out.length; i++) out[i] = data[i * info.channels] > 127 ? 1 : 0;
  return { width: info.width, height: info.height, data: out };
}

/** Encode an RgbImage as PNG (for debugging output and fixtures). */
export async function encodePng(img: RgbImage): Promise<Buffer> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: img.channels },
  }).png().toBuffer();
}
