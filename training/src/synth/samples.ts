/**
 * The app's bundled demo samples (public/samples): a handful of synthetic photos, good and
 * ungradable, with a samples.json manifest the demo mode reads. Synthetic on purpose: no
 * patient photo ships with the app.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { LabelId } from '../../../src/core/types';
import { renderFundus, type FundusSpec } from './fundus';
import { hashSeed } from './prng';
import { encodeFundus } from './writer';

/** One entry of samples.json. */
export interface SampleEntry {
  file: string;
  title: string;
  description: string;
  /** ground truth of the generator (0/1), healthy included */
  labels: Record<LabelId, 0 | 1>;
  gradable: boolean;
  /** the small picture on the sample's button, relative to samples.json (see {@link writeSampleThumbnail}) */
  thumb: string;
  /** 'good' or the ungradable kind */
  quality: string;
  width: number;
  height: number;
  synthetic: true;
}

const NONE = { ma: false, hm: false, hex: false, cws: false };

interface SampleDef {
  name: string;
  title: string;
  description: string;
  spec: FundusSpec;
}

const DEFS: SampleDef[] = [
  {
    name: 'healthy-macula',
    title: 'Healthy retina',
    description: 'A healthy retina: optic disc, macula and vessel arcades, no lesions.',
    spec: { width: 1024, height: 683, lesions: NONE, ungradable: null },
  },
  {
    name: 'microaneurysms',
    title: 'Microaneurysms',
    description: 'Tiny dark-red dots around the macula: the earliest sign of diabetic retinopathy.',
    spec: { width: 1024, height: 768, lesions: { ...NONE, ma: true }, ungradable: null, severity: 1.2 },
  },
  {
    name: 'haemorrhages',
    title: 'Haemorrhages and microaneurysms',
    description: 'Dark-red blots and flame-shaped bleeds with microaneurysms along the arcades.',
    spec: { width: 1024, height: 683, lesions: { ...NONE, ma: true, hm: true }, ungradable: null, severity: 1.0 },
  },
  {
    name: 'hard-exudates',
    title: 'Hard exudates',
    description: 'Sharp-edged bright-yellow deposits clustered near the macula, some in rings.',
    spec: { width: 1024, height: 768, lesions: { ...NONE, hex: true }, ungradable: null, severity: 1.0 },
  },
  {
    name: 'cotton-wool-spots',
    title: 'Cotton wool spots',
    description: 'Pale, soft-edged fluffy patches near the vessel arcades, with a few haemorrhages.',
    spec: { width: 1024, height: 1024, lesions: { ...NONE, cws: true, hm: true }, ungradable: null, severity: 1.6 },
  },
  {
    name: 'advanced',
    title: 'All four lesion types',
    description: 'Microaneurysms, haemorrhages, hard exudates and cotton wool spots together.',
    spec: { width: 1024, height: 683, lesions: { ma: true, hm: true, hex: true, cws: true }, ungradable: null, severity: 1.3 },
  },
  {
    name: 'ungradable-dark',
    title: 'Too dark to grade',
    description: 'Under-exposed photo: the quality check should ask for a retake.',
    spec: { width: 1024, height: 683, lesions: { ...NONE, hm: true }, ungradable: 'too-dark' },
  },
  {
    name: 'ungradable-blurred',
    title: 'Blurred photo',
    description: 'Out of focus: lesions cannot be seen reliably; the quality check should ask for a retake.',
    spec: { width: 1024, height: 768, lesions: { ...NONE, hex: true }, ungradable: 'blurred' },
  },
];

/** Height of a sample's thumbnail: the app shows it in a 40 px box (styles.css `.sample img`), so 2× for HiDPI. */
export const THUMB_HEIGHT = 80;

/**
 * Writes `thumbs/<file>` next to the sample `file` in `dir`: a JPEG THUMB_HEIGHT pixels high, and returns its path
 * relative to `dir`. Why: the sample buttons showed the full photos (8 × 1024 px JPEGs decoded and scaled down at
 * every start), which cost the app's cold start ~160 ms on this project's 2-core machine (bench/README.md, session 12).
 */
export async function writeSampleThumbnail(dir: string, file: string): Promise<string> {
  const thumb = `thumbs/${file.replace(/\.[a-z]+$/i, '')}.jpg`;
  await mkdir(join(dir, 'thumbs'), { recursive: true });
  const bytes = await sharp(await readFile(join(dir, file))).resize({ height: THUMB_HEIGHT }).jpeg({ quality: 80, mozjpeg: false }).toBuffer();
  await writeFile(join(dir, thumb), bytes);
  return thumb;
}

/**
 * (Re)writes the thumbnail of every sample listed in `dir`/samples.json and records it there (`thumb`), leaving the
 * samples themselves as they are. `npm run synth -- --thumbs public/samples`.
 */
export async function writeSampleThumbnails(dir: string): Promise<SampleEntry[]> {
  const entries = JSON.parse(await readFile(join(dir, 'samples.json'), 'utf8')) as SampleEntry[];
  for (const e of entries) e.thumb = await writeSampleThumbnail(dir, e.file);
  await writeFile(join(dir, 'samples.json'), JSON.stringify(entries, null, 2) + '\n');
  return entries;
}

/** Render the demo samples into `dir` (JPEG, quality 88) with their thumbnails and write samples.json; returns the manifest. */
export async function writeSamples(dir: string, seed = 7): Promise<SampleEntry[]> {
  await mkdir(dir, { recursive: true });
  const entries: SampleEntry[] = [];
  for (let i = 0; i < DEFS.length; i++) {
    const d = DEFS[i];
    const f = renderFundus(d.spec, hashSeed(seed, i));
    const enc = await encodeFundus(f, 'jpg', 88);
    const file = `${String(i + 1).padStart(2, '0')}-${d.name}.jpg`;
    await writeFile(join(dir, file), enc.image);
    entries.push({
      file,
      title: d.title,
      description: `${d.description} (Synthetic image made by the FundusLens generator, not a patient photo.)`,
      labels: f.labels,
      gradable: f.gradable,
      thumb: await writeSampleThumbnail(dir, file),
      quality: f.quality,
      width: f.image.width,
      height: f.image.height,
      synthetic: true,
    });
  }
  await writeFile(join(dir, 'samples.json'), JSON.stringify(entries, null, 2) + '\n');
  return entries;
}
