/**
 * Writes the robustness suite's awkward input files into a folder, at test time (nothing big
 * is committed): a synthetic fundus from training/src/synth (renderFundus) turned by sharp
 * into every kind of file a clinic might feed the app or the CLI by mistake.
 *
 *   npx tsx scripts/make-bad-inputs.ts <outDir> [--no-huge]
 *   npx tsx scripts/make-bad-inputs.ts --photo <W>x<H> <file.jpg>   (one good photo, for the bench)
 *
 * Prints nothing but writes <outDir>/manifest.json: one entry per file with what it is, the
 * geometry needed to check alignment (EXIF case) and the expected outcome class. The specs
 * (src/cli/robustness.test.ts, e2e/robustness.spec.ts) decide what each outcome must look
 * like in their world; this file only says what the input is.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { renderFundus } from '../training/src/synth/fundus';
import type { BadInput, BadInputKind, Manifest } from './bad-inputs-manifest';

export type { BadInput, BadInputKind, Manifest };

const W = 640;
const H = 480;
/** black added on the left of the EXIF photo so its FOV is off-centre: a transposed photo cannot match by symmetry */
const EXIF_PAD = 160;

/** Writes every bad input into `dir` (created) and returns the manifest (also written as manifest.json). */
export async function makeBadInputs(dir: string, o: { huge?: boolean } = {}): Promise<Manifest> {
  mkdirSync(dir, { recursive: true });
  const f = renderFundus({ width: W, height: H, lesions: { ma: true, hm: true, hex: true, cws: false }, ungradable: null, severity: 1 }, 20261126);
  const raw = { raw: { width: W, height: H, channels: 3 as const } };
  const px = Buffer.from(f.image.data.buffer, f.image.data.byteOffset, f.image.data.byteLength);
  const geo = f.geometry;
  const inputs: BadInput[] = [];
  const put = async (e: BadInput, data: Buffer | Promise<Buffer>): Promise<void> => {
    writeFileSync(join(dir, e.file), await data);
    inputs.push(e);
  };
  const good = { fov: geo.fov, disc: geo.disc };

  const jpeg = await sharp(px, raw).jpeg({ quality: 92 }).toBuffer();
  await put({ kind: 'reference', file: 'reference.jpg', mimeType: 'image/jpeg', width: W, height: H, expect: 'ok', ...good, note: 'a plain synthetic fundus JPEG (the control)' }, jpeg);
  await put({ kind: 'empty', file: 'empty.jpg', mimeType: 'image/jpeg', width: 0, height: 0, expect: 'error', errorCode: 'decode-failed', note: '0-byte file' }, Buffer.alloc(0));
  await put(
    { kind: 'text-as-jpg', file: 'notes-renamed.jpg', mimeType: 'image/jpeg', width: 0, height: 0, expect: 'error', errorCode: 'decode-failed', note: 'a text file renamed .jpg' },
    Buffer.from('Patient notes: follow-up in 6 months. This is text, not a photo.\n'),
  );
  await put(
    {
      kind: 'truncated-jpeg',
      file: 'truncated.jpg',
      mimeType: 'image/jpeg',
      width: W,
      height: H,
      expect: 'ok-or-error',
      errorCode: 'decode-failed',
      note: 'the first 40 % of a JPEG (an interrupted copy)',
    },
    jpeg.subarray(0, Math.round(jpeg.length * 0.4)),
  );
  await put(
    { kind: 'cmyk-jpeg', file: 'cmyk.jpg', mimeType: 'image/jpeg', width: W, height: H, expect: 'ok', ...good, note: 'CMYK JPEG (print workflow export)' },
    sharp(px, raw).toColourspace('cmyk').jpeg({ quality: 92 }).toBuffer(),
  );
  await put(
    { kind: 'png-16bit', file: 'rgb16.png', mimeType: 'image/png', width: W, height: H, expect: 'ok', ...good, note: '16-bit per channel PNG' },
    sharp(px, raw).toColourspace('rgb16').png().toBuffer(),
  );
  await put(
    { kind: 'png-alpha', file: 'alpha.png', mimeType: 'image/png', width: W, height: H, expect: 'ok', ...good, note: 'RGBA PNG, fully opaque alpha channel present' },
    sharp(px, raw).ensureAlpha(1).png().toBuffer(),
  );
  await put(
    { kind: 'greyscale', file: 'grey.jpg', mimeType: 'image/jpeg', width: W, height: H, expect: 'ok', ...good, note: 'single-channel (greyscale) JPEG, e.g. a red-free photo' },
    sharp(px, raw).toColourspace('b-w').jpeg({ quality: 92 }).toBuffer(),
  );

  // EXIF: the upright photo (padded on the left) is stored turned 90° counter-clockwise with
  // orientation 6 ("rotate 90° clockwise to display"), so only a decoder that honours EXIF
  // shows it upright. Geometry below is in the upright, displayed frame.
  const upright = await sharp(px, raw).extend({ left: EXIF_PAD, background: { r: 0, g: 0, b: 0 } }).raw().toBuffer();
  const uw = W + EXIF_PAD;
  const uraw = { raw: { width: uw, height: H, channels: 3 as const } };
  const shifted = { fov: { ...geo.fov, cx: geo.fov.cx + EXIF_PAD }, disc: { ...geo.disc, x: geo.disc.x + EXIF_PAD } };
  await put(
    { kind: 'reference-upright', file: 'upright.jpg', mimeType: 'image/jpeg', width: uw, height: H, expect: 'ok', ...shifted, note: 'the EXIF photo as a viewer shows it, without EXIF (control)' },
    sharp(upright, uraw).jpeg({ quality: 95 }).toBuffer(),
  );
  const stored = await sharp(upright, uraw).rotate(270).raw().toBuffer();
  await put(
    {
      kind: 'exif-rotated',
      file: 'exif-rotated.jpg',
      mimeType: 'image/jpeg',
      width: uw,
      height: H,
      expect: 'ok',
      ...shifted,
      note: `pixels stored ${H}×${uw} with EXIF orientation 6; displayed ${uw}×${H}`,
    },
    sharp(stored, { raw: { width: H, height: uw, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer(),
  );

  await put(
    { kind: 'tiny', file: 'tiny-16.png', mimeType: 'image/png', width: 16, height: 16, expect: 'error', errorCode: 'image-too-small', note: '16×16 thumbnail' },
    sharp(px, raw).resize(16, 16).png().toBuffer(),
  );
  if (o.huge !== false) {
    await put(
      {
        kind: 'huge',
        file: 'huge-12000x9000.jpg',
        mimeType: 'image/jpeg',
        width: 12000,
        height: 9000,
        expect: 'ok-or-error',
        errorCode: 'image-too-large',
        fov: { cx: (geo.fov.cx * 12000) / W, cy: (geo.fov.cy * 9000) / H, radius: (geo.fov.radius * 12000) / W },
        note: '12000×9000 (108 MP) JPEG: the app downscales it, the Node API refuses > 100 MP with a clear message',
      },
      sharp(px, raw).resize(12000, 9000, { kernel: 'nearest' }).jpeg({ quality: 70 }).toBuffer(),
    );
  }
  // Not a fundus: a "landscape" (sky, grass, a house) without a dark surround or a red disc.
  const scene = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
      <defs><linearGradient id="s" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#5aa0e6"/><stop offset="1" stop-color="#d8ecff"/></linearGradient></defs>
      <rect width="${W}" height="${H * 0.6}" fill="url(#s)"/><rect y="${H * 0.6}" width="${W}" height="${H * 0.4}" fill="#4c8a2e"/>
      <rect x="380" y="190" width="150" height="110" fill="#e8e0cc"/><polygon points="370,190 455,120 540,190" fill="#8a3b2a"/>
      <rect x="440" y="240" width="30" height="60" fill="#5a3a1a"/><circle cx="110" cy="80" r="40" fill="#fff4a0"/></svg>`,
  );
  await put(
    { kind: 'non-fundus', file: 'landscape.jpg', mimeType: 'image/jpeg', width: W, height: H, expect: 'ungradable', note: 'an ordinary photo, not of a retina' },
    sharp(scene).jpeg({ quality: 90 }).toBuffer(),
  );
  // Already cropped inside the retina: no black border at all.
  const side = Math.floor(geo.fov.radius * 1.2);
  const left = Math.round(geo.fov.cx - side / 2);
  const top = Math.round(geo.fov.cy - side / 2);
  await put(
    {
      kind: 'no-fov-border',
      file: 'cropped-no-border.jpg',
      mimeType: 'image/jpeg',
      width: side,
      height: side,
      expect: 'ok',
      disc: { ...geo.disc, x: geo.disc.x - left, y: geo.disc.y - top },
      note: 'cropped inside the field of view (no black border to detect)',
    },
    sharp(px, raw).extract({ left, top, width: side, height: side }).jpeg({ quality: 92 }).toBuffer(),
  );

  const manifest: Manifest = { generatedBy: 'scripts/make-bad-inputs.ts', inputs };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return manifest;
}

/** One gradable synthetic fundus JPEG with all four lesion types (bench/bench.ts uses it as its photo). */
export async function makePhoto(file: string, width: number, height: number): Promise<void> {
  const f = renderFundus({ width, height, lesions: { ma: true, hm: true, hex: true, cws: true }, ungradable: null, severity: 1 }, 4242);
  await sharp(Buffer.from(f.image.data.buffer, f.image.data.byteOffset, f.image.data.byteLength), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toFile(file);
}

const isMain = process.argv[1] && resolve(process.argv[1]).endsWith('make-bad-inputs.ts');
if (isMain && process.argv[2] === '--photo') {
  const [w, h] = (process.argv[3] ?? '').split('x').map(Number);
  if (!(w >= 16 && h >= 16) || !process.argv[4]) {
    process.stderr.write('usage: npx tsx scripts/make-bad-inputs.ts --photo <W>x<H> <file.jpg>\n');
    process.exit(2);
  }
  makePhoto(resolve(process.argv[4]), w, h).catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
} else if (isMain) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: npx tsx scripts/make-bad-inputs.ts <outDir> [--no-huge]\n');
    process.exit(2);
  }
  makeBadInputs(resolve(dir), { huge: !process.argv.includes('--no-huge') }).catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
