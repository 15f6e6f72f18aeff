/**
 * `npm run synth -- --n 2000 --seed 1 --out <dir> [--size 1024] [--sizes 800,1600,3000] [--ungradable 0.1]`
 *
 * Other options: --healthy 0.25, --rates ma=0.45,hm=0.45,hex=0.45,cws=0.4, --test 0.15,
 * --aspects 1,1.333,1.5, --format jpg|png, --quality 92, --start 0, --samples <dir> (demo samples + samples.json),
 * --thumbs <dir> (only the thumbnails of the samples there).
 * Relative paths resolve against the directory npm was started from (INIT_CWD), not training/.
 */
import { isAbsolute, join, resolve } from 'node:path';
import type { LesionLabelId } from '../../../src/core/types';
import { LESION_LABEL_IDS } from '../../../src/core/types';
import { writeSynthDataset, type SynthDatasetOptions } from './writer';
import { writeSampleThumbnails, writeSamples } from './samples';

const USAGE = `usage: npm run synth -- --n <count> --seed <int> --out <dir> [options]
  --size <px>            long side of every image (default 1024)
  --sizes <a,b,c>        long side drawn per image from this list (overrides --size)
  --aspects <a,b>        width/height ratios drawn per image (default 1,1.333,1.5)
  --ungradable <f>       fraction of ungradable images (dark, overexposed, blurred, noisy, hazy); default 0
  --healthy <f>          fraction of lesion-free images (default 0.25)
  --rates ma=f,hm=f,...  marginal frequency of each lesion label (default 0.45, cws 0.4)
  --test <f>             fraction marked split=test (default 0.15)
  --format jpg|png       image format (default jpg, quality 92)
  --quality <q>          JPEG quality
  --start <i>            first image index (slices of one big run in separate folders)
  --samples <dir>        write the demo samples (JPEG + thumbnails + samples.json) to <dir> instead
  --thumbs <dir>         (re)write only the thumbnails of the samples in <dir> and record them in its samples.json`;

function fail(msg: string): never {
  process.stderr.write(`synth: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    }
    if (!a.startsWith('--')) fail(`unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) fail(`option ${a} needs a value`);
      out[a.slice(2)] = v;
      i++;
    }
  }
  return out;
}

function num(args: Record<string, string>, key: string, def: number, min: number, max: number): number {
  if (args[key] === undefined) return def;
  const v = Number(args[key]);
  if (!Number.isFinite(v) || v < min || v > max) fail(`--${key} must be a number in [${min}, ${max}], got "${args[key]}"`);
  return v;
}

function list(s: string, key: string): number[] {
  const xs = s.split(',').map((x) => Number(x.trim()));
  if (!xs.length || xs.some((x) => !Number.isFinite(x) || x <= 0)) fail(`--${key} must be a comma-separated list of positive numbers`);
  return xs;
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const base = process.env.INIT_CWD ?? process.cwd();
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  if (args.thumbs !== undefined) {
    const dir = abs(args.thumbs);
    const items = await writeSampleThumbnails(dir);
    process.stderr.write(`synth: wrote ${items.length} thumbnails to ${join(dir, 'thumbs')} and recorded them in samples.json\n`);
    return;
  }
  if (args.samples !== undefined) {
    const dir = abs(args.samples);
    const items = await writeSamples(dir, num(args, 'seed', 7, 0, 2 ** 32 - 1));
    process.stderr.write(`synth: wrote ${items.length} samples and samples.json to ${dir}\n`);
    return;
  }
  if (args.out === undefined) fail('--out is required');
  const known = new Set(['n', 'seed', 'out', 'size', 'sizes', 'aspects', 'ungradable', 'healthy', 'rates', 'test', 'format', 'quality', 'start']);
  for (const k of Object.keys(args)) if (!known.has(k)) fail(`unknown option --${k}`);
  const rates: Partial<Record<LesionLabelId, number>> = {};
  if (args.rates) {
    for (const part of args.rates.split(',')) {
      const [k, v] = part.split('=');
      if (!LESION_LABEL_IDS.includes(k as LesionLabelId) || !(Number(v) >= 0 && Number(v) <= 1)) fail(`bad --rates entry "${part}"`);
      rates[k as LesionLabelId] = Number(v);
    }
  }
  const format = (args.format ?? 'jpg') as 'jpg' | 'png';
  if (format !== 'jpg' && format !== 'png') fail('--format must be jpg or png');
  const opts: SynthDatasetOptions = {
    out: abs(args.out),
    n: Math.round(num(args, 'n', 100, 1, 1e7)),
    seed: Math.round(num(args, 'seed', 1, 0, 2 ** 32 - 1)),
    sizes: args.sizes ? list(args.sizes, 'sizes') : [num(args, 'size', 1024, 16, 8192)],
    aspects: args.aspects ? list(args.aspects, 'aspects') : undefined,
    ungradable: num(args, 'ungradable', 0, 0, 1),
    healthy: num(args, 'healthy', 0.25, 0, 1),
    rates,
    testFraction: num(args, 'test', 0.15, 0, 1),
    format,
    quality: num(args, 'quality', 92, 1, 100),
    start: Math.round(num(args, 'start', 0, 0, 1e9)),
  };
  const tty = process.stderr.isTTY;
  let lastPrint = 0;
  const t0 = Date.now();
  opts.onProgress = (done, total, ms) => {
    const now = Date.now();
    if (done < total && now - lastPrint < (tty ? 200 : 5000)) return;
    lastPrint = now;
    const pct = ((100 * done) / total).toFixed(1);
    const eta = ((total - done) * ms) / 1000;
    const line = `synth ${done}/${total} (${pct}%) ${ms.toFixed(0)} ms/img, elapsed ${fmtTime((now - t0) / 1000)}, ETA ${fmtTime(eta)}`;
    process.stderr.write(tty ? `\r${line}   ` : `${line}\n`);
  };
  const s = await writeSynthDataset(opts);
  if (tty) process.stderr.write('\n');
  process.stderr.write(
    `synth: ${s.n} images in ${s.out} — ma ${s.counts.ma}, hm ${s.counts.hm}, hex ${s.counts.hex}, cws ${s.counts.cws}, healthy ${s.counts.healthy}, ungradable ${s.counts.ungradable}; ` +
      `render ${s.renderMs.toFixed(0)} ms/img, total ${s.totalMs.toFixed(0)} ms/img\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`synth: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
