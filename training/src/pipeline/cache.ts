/**
 * Preprocessed-image cache. Preprocessing a camera photo (decode, FOV, crop, CLAHE, resize) costs
 * ~0.1–0.5 s; done once, every later epoch only augments model-size tensors. Images are kept as
 * uint8 [S, S, 3] (0.75 MB at 512², so 2000 photos ≈ 1.5 GB) and optionally on disk so a resumed
 * run skips the work. The quantisation to 8 bits matches what a photo carries anyway (the core
 * pipeline's CLAHE output is 8-bit), so it does not move training away from serving.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { preprocess } from '../../../src/core/preprocess/index';
import type { PreprocessParams, RgbImage } from '../../../src/core/types';
import { decodeImage } from './decode';
import { Progress } from './progress';

export interface CacheItem {
  image: string;
  stem: string;
}

export interface ImageCacheOptions {
  params: PreprocessParams;
  /** directory for <stem>-<key>.u8 files; null = memory only. */
  diskDir?: string | null;
  /** decode cap on the longest photo side; default 4 × inputSize (see decodeImage). */
  maxDecodeSide?: number;
  /** progress label on stderr; null = silent. */
  progressLabel?: string | null;
}

/** Preprocesses one decoded photo with the core pipeline and quantises it to uint8. */
export function preprocessToUint8(img: RgbImage, params: PreprocessParams): Uint8Array {
  const { input } = preprocess(img, params);
  try {
    const q = tf.tidy(() => tf.cast(tf.clipByValue(tf.round(tf.mul(input, 255)), 0, 255), 'int32'));
    const data = q.dataSync();
    q.dispose();
    return Uint8Array.from(data);
  } finally {
    input.dispose();
  }
}

async function cacheKey(item: CacheItem, o: ImageCacheOptions, maxSide: number): Promise<string> {
  const st = await fs.stat(item.image);
  const h = createHash('sha256');
  h.update(JSON.stringify({ v: 1, file: path.resolve(item.image), size: st.size, mtime: Math.floor(st.mtimeMs), params: o.params, maxSide }));
  return h.digest('hex').slice(0, 16);
}

/**
 * Loads every item as a preprocessed uint8 image (from disk cache when valid, else computed).
 * Items that fail to decode/preprocess are reported in `failed` and left out (their index in
 * `images` is null) rather than aborting a long run for one bad file.
 */
export async function loadPreprocessed(items: CacheItem[], o: ImageCacheOptions): Promise<{ images: (Uint8Array | null)[]; failed: { stem: string; error: string }[]; computed: number; fromDisk: number }> {
  const S = o.params.inputSize;
  const maxSide = o.maxDecodeSide ?? 4 * S;
  const expected = S * S * 3;
  const images: (Uint8Array | null)[] = new Array(items.length).fill(null);
  const failed: { stem: string; error: string }[] = [];
  let computed = 0;
  let fromDisk = 0;
  if (o.diskDir) await fs.mkdir(o.diskDir, { recursive: true });
  const prog = o.progressLabel === null ? null : new Progress(o.progressLabel ?? 'preprocess', items.length);

  // Decode of the next photo (sharp, off the JS thread) overlaps preprocessing of the current one.
  const decodeAt = (i: number): Promise<RgbImage> | null => {
    if (i >= items.length) return null;
    const p = decodeImage(items[i].image, maxSide);
    // mark handled now: a failure is picked up when this item's turn comes (else Node aborts on an unhandled rejection)
    p.catch(() => undefined);
    return p;
  };
  let pending: Promise<RgbImage> | null = null;
  let pendingIndex = -1;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    let file: string | null = null;
    try {
      if (o.diskDir) {
        file = path.join(o.diskDir, `${item.stem.replace(/[^A-Za-z0-9_.-]/g, '_')}-${await cacheKey(item, o, maxSide)}.u8`);
        const buf = await fs.readFile(file).catch(() => null);
        if (buf && buf.byteLength === expected) {
          images[i] = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
          fromDisk++;
          if (pendingIndex === i) pending = null;
          prog?.tick(1);
          continue;
        }
      }
      const decoding = pendingIndex === i && pending ? pending : decodeAt(i)!;
      // start the next decode now (wasted when the next item is a disk hit; cheap enough)
      pending = decodeAt(i + 1);
      pendingIndex = i + 1;
      const img = await decoding;
      const u8 = preprocessToUint8(img, o.params);
      images[i] = u8;
      computed++;
      if (file) {
        const tmp = `${file}.tmp-${process.pid}`;
        await fs.writeFile(tmp, u8);
        await fs.rename(tmp, file);
      }
    } catch (e) {
      failed.push({ stem: item.stem, error: (e as Error).message });
    }
    prog?.tick(1);
  }
  return { images, failed, computed, fromDisk };
}

/** Stacks cached uint8 images into a float batch [b, S, S, 3] in [0, 1] (caller disposes). */
export function toBatch(images: Uint8Array[], size: number): tf.Tensor4D {
  const n = images.length;
  const per = size * size * 3;
  const buf = new Uint8Array(n * per);
  images.forEach((im, i) => buf.set(im, i * per));
  return tf.tidy(() => tf.div(tf.tensor4d(buf, [n, size, size, 3], 'int32'), 255) as tf.Tensor4D);
}
