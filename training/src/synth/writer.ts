/**
 * Writes a synthetic dataset in the FundusLens dataset format:
 *   <out>/labels.csv                 image,ma,hm,hex,cws,healthy,gradable,quality,split,... (extra columns ignored by readers)
 *   <out>/images/<stem>.jpg|png
 *   <out>/masks/<label>/<stem>.png   binary 0/255, same size as the image
 * Image i depends only on (seed, i, options), not on n: a bigger run extends a smaller one.
 */
import sharp from 'sharp';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LesionLabelId } from '../../../src/core/types';
import { LESION_LABEL_IDS } from '../../../src/core/types';
import { Rng, hashSeed } from './prng';
import { UNGRADABLE_KINDS, conditionalRates, renderFundus, type FundusSpec, type SynthFundus, type UngradableKind } from './fundus';

export interface SynthDatasetOptions {
  out: string;
  n: number;
  seed: number;
  /** long side candidates in pixels; one is drawn per image (default [1024]) */
  sizes?: number[];
  /** aspect ratios (width/height) to draw from; default: square, 4:3 and 3:2 cameras */
  aspects?: number[];
  /** marginal probability of each lesion label (default 0.45 each, cws 0.4) */
  rates?: Partial<Record<LesionLabelId, number>>;
  /** probability of a lesion-free image (default 0.25) */
  healthy?: number;
  /** fraction of ungradable images (default 0) */
  ungradable?: number;
  /** fraction of images put in split "test" (default 0.15); the rest are "train" */
  testFraction?: number;
  format?: 'jpg' | 'png';
  /** JPEG quality (default 92) */
  quality?: number;
  /** first image index (default 0): several processes can render slices into separate folders */
  start?: number;
  onProgress?: (done: number, total: number, msPerImage: number) => void;
}

export interface SynthDatasetSummary {
  out: string;
  n: number;
  counts: Record<LesionLabelId | 'healthy' | 'ungradable', number>;
  /** mean wall time of rendering alone per image, ms */
  renderMs: number;
  /** mean wall time per image including encoding and writing, ms */
  totalMs: number;
}

export const DEFAULT_RATES: Record<LesionLabelId, number> = { ma: 0.45, hm: 0.45, hex: 0.45, cws: 0.4 };

/** The spec of image `index`: drawn from its own stream, so it does not depend on the other images. */
export function imageSpec(opts: SynthDatasetOptions, index: number): { spec: FundusSpec; seed: number; split: string } {
  const rng = new Rng(hashSeed(opts.seed, index));
  const sizes = opts.sizes?.length ? opts.sizes : [1024];
  const aspects = opts.aspects?.length ? opts.aspects : [1, 4 / 3, 1.5];
  const long = rng.pick(sizes);
  const aspect = rng.pick(aspects);
  const width = Math.round(long);
  const height = Math.round(long / aspect);
  const healthy = opts.healthy ?? 0.25;
  const q = conditionalRates({ ...DEFAULT_RATES, ...opts.rates }, healthy);
  const lesions = { ma: false, hm: false, hex: false, cws: false };
  if (!rng.chance(healthy)) {
    for (let tries = 0; tries < 100; tries++) {
      for (const l of LESION_LABEL_IDS) lesions[l] = rng.chance(q[l]);
      if (LESION_LABEL_IDS.some((l) => lesions[l])) break;
    }
  }
  const ungradable: UngradableKind | null = rng.chance(opts.ungradable ?? 0) ? rng.pick(UNGRADABLE_KINDS) : null;
  const split = rng.chance(opts.testFraction ?? 0.15) ? 'test' : 'train';
  return { spec: { width, height, lesions, ungradable }, seed: rng.u32(), split };
}

export function stemFor(index: number): string {
  return `synth_${String(index).padStart(6, '0')}`;
}

function maskTo255(m: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(m.length);
  for (let i = 0; i < m.length; i++) b[i] = m[i] ? 255 : 0;
  return b;
}

/** Encode an image and its masks (PNG 0/255, greyscale). Empty masks of one size are encoded once. */
const emptyMaskCache = new Map<string, Promise<Buffer>>();
export async function encodeFundus(f: SynthFundus, format: 'jpg' | 'png', quality = 92): Promise<{ image: Buffer; masks: Record<LesionLabelId, Buffer> }> {
  const { width, height, data } = f.image;
  const raw = { raw: { width, height, channels: 3 as const } };
  const src = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const imageP = format === 'png' ? sharp(src, raw).png({ compressionLevel: 6 }).toBuffer() : sharp(src, raw).jpeg({ quality, mozjpeg: false }).toBuffer();
  const maskP = LESION_LABEL_IDS.map((l) => {
    if (!f.labels[l]) {
      const key = `${width}x${height}`;
      let p = emptyMaskCache.get(key);
      if (!p) {
        p = sharp(Buffer.alloc(width * height), { raw: { width, height, channels: 1 } }).toColourspace('b-w').png({ compressionLevel: 9 }).toBuffer();
        emptyMaskCache.set(key, p);
      }
      return p;
    }
    return sharp(maskTo255(f.masks[l]), { raw: { width, height, channels: 1 } }).toColourspace('b-w').png({ compressionLevel: 6 }).toBuffer();
  });
  const [image, ...masks] = await Promise.all([imageP, ...maskP]);
  return { image, masks: Object.fromEntries(LESION_LABEL_IDS.map((l, i) => [l, masks[i]])) as Record<LesionLabelId, Buffer> };
}

export const CSV_HEADER = [
  'image', 'ma', 'hm', 'hex', 'cws', 'healthy', 'gradable', 'quality', 'split',
  'width', 'height', 'eye', 'fov_cx', 'fov_cy', 'fov_r', 'disc_x', 'disc_y', 'fovea_x', 'fovea_y', 'dd',
  'n_ma', 'n_hm', 'n_hex', 'n_cws', 'seed',
];

export function csvRow(file: string, f: SynthFundus, split: string, seed: number): string {
  const g = f.geometry;
  const n = (l: LesionLabelId) => f.lesions.filter((x) => x.label === l).length;
  const r1 = (v: number) => v.toFixed(1);
  return [
    file, f.labels.ma, f.labels.hm, f.labels.hex, f.labels.cws, f.labels.healthy, f.gradable ? 1 : 0, f.quality, split,
    f.image.width, f.image.height, g.eye, r1(g.fov.cx), r1(g.fov.cy), r1(g.fov.radius), r1(g.disc.x), r1(g.disc.y), r1(g.fovea.x), r1(g.fovea.y), r1(g.dd),
    n('ma'), n('hm'), n('hex'), n('cws'), seed,
  ].join(',');
}

/**
 * Generate `n` images into `out`. Rendering runs on this thread while sharp encodes the
 * previous image on its own threads.
 */
export async function writeSynthDataset(opts: SynthDatasetOptions): Promise<SynthDatasetSummary> {
  const format = opts.format ?? 'jpg';
  const start = opts.start ?? 0;
  await mkdir(join(opts.out, 'images'), { recursive: true });
  for (const l of LESION_LABEL_IDS) await mkdir(join(opts.out, 'masks', l), { recursive: true });
  const rows: string[] = [];
  const counts = { ma: 0, hm: 0, hex: 0, cws: 0, healthy: 0, ungradable: 0 };
  let renderMs = 0;
  const t0 = performance.now();
  let pending: Promise<void> | null = null;
  for (let k = 0; k < opts.n; k++) {
    const index = start + k;
    const { spec, seed, split } = imageSpec(opts, index);
    const tr = performance.now();
    const f = renderFundus(spec, seed);
    renderMs += performance.now() - tr;
    const stem = stemFor(index);
    const file = `images/${stem}.${format}`;
    rows.push(csvRow(file, f, split, seed));
    for (const l of LESION_LABEL_IDS) counts[l] += f.labels[l];
    counts.healthy += f.labels.healthy;
    if (!f.gradable) counts.ungradable++;
    if (pending) await pending;
    pending = (async () => {
      const enc = await encodeFundus(f, format, opts.quality ?? 92);
      await writeFile(join(opts.out, file), enc.image);
      await Promise.all(LESION_LABEL_IDS.map((l) => writeFile(join(opts.out, 'masks', l, `${stem}.png`), enc.masks[l])));
    })();
    opts.onProgress?.(k + 1, opts.n, (performance.now() - t0) / (k + 1));
  }
  if (pending) await pending;
  await writeFile(join(opts.out, 'labels.csv'), [CSV_HEADER.join(','), ...rows].join('\n') + '\n');
  return { out: opts.out, n: opts.n, counts, renderMs: renderMs / Math.max(1, opts.n), totalMs: (performance.now() - t0) / Math.max(1, opts.n) };
}
