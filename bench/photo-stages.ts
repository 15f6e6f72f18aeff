/**
 * `npx tsx bench/photo-stages.ts [--runs 15] [--photo bench/out/photo.jpg]`: the JS photo stages of an analysis
 * (everything but the network) on one photo, with the WebAssembly photo kernels (src/core/simd) on and off,
 * interleaved run by run in one process, so the host's drifting load hits both alike. Prints medians and the
 * on ÷ off ratio per stage. A script that prints numbers; it never passes or fails on time.
 *
 * Stages, as analyze() runs them: detectFov (the FOV's working copy + circle fit), assessQuality (the gradability
 * measures on their 512² copy), preprocess (crop + resample to the model grid, FOV mask, CLAHE on L*, colour
 * round trip), detectOpticDisc. `npm run bench` builds the default photo (2144×1424 synthetic fundus).
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { decodeImage } from '../src/cli/decode';
import { detectOpticDisc } from '../src/core/lesions/disc';
import { DEFAULT_PREPROCESS, detectFov, preprocessToArray } from '../src/core/preprocess/index';
import { assessQuality } from '../src/core/quality/index';
import { photoKernels, setPhotoKernelsEnabled } from '../src/core/simd/index';

const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: { runs: { type: 'string', default: '15' }, photo: { type: 'string', default: 'bench/out/photo.jpg' } },
});
if (!existsSync(flags.photo!)) {
  console.error(`${flags.photo} is missing: run \`npm run bench -- --node-only --backends wasm --models demo --runs 1\` once to make it.`);
  process.exit(2);
}
const img = await decodeImage(flags.photo!);
const kernelsHere = photoKernels() !== null;
console.log(`photo ${img.width}×${img.height}, ${flags.runs} runs per path after 3 warm-up runs; WebAssembly SIMD kernels ${kernelsHere ? 'available' : 'NOT available here (both rows are JS)'}`);

const STAGES = ['detectFov', 'assessQuality', 'preprocess', 'detectOpticDisc', 'all'] as const;
type Stage = (typeof STAGES)[number];
const samples: Record<'wasm' | 'js', Record<Stage, number[]>> = {
  wasm: Object.fromEntries(STAGES.map((s) => [s, []])) as unknown as Record<Stage, number[]>,
  js: Object.fromEntries(STAGES.map((s) => [s, []])) as unknown as Record<Stage, number[]>,
};
function once(path: 'wasm' | 'js', keep: boolean): void {
  setPhotoKernelsEnabled(path === 'wasm');
  const t: Partial<Record<Stage, number>> = {};
  const time = <R>(s: Stage, f: () => R): R => {
    const t0 = performance.now();
    const r = f();
    t[s] = performance.now() - t0;
    return r;
  };
  const t0 = performance.now();
  const fov = time('detectFov', () => detectFov(img));
  time('assessQuality', () => assessQuality(img, fov));
  time('preprocess', () => preprocessToArray(img, DEFAULT_PREPROCESS, fov));
  time('detectOpticDisc', () => detectOpticDisc(img, fov));
  t.all = performance.now() - t0;
  if (keep) for (const s of STAGES) samples[path][s].push(t[s]!);
}
const runs = Number(flags.runs);
for (let i = 0; i < 3 + runs; i++) for (const path of ['wasm', 'js'] as const) once(path, i >= 3);
setPhotoKernelsEnabled(true);

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log('\n| stage | JS loops (ms) | WebAssembly kernels (ms) | kernels ÷ JS |\n|---|---:|---:|---:|');
for (const s of STAGES) {
  const js = median(samples.js[s]), wasm = median(samples.wasm[s]);
  console.log(`| ${s} | ${js.toFixed(1)} | ${wasm.toFixed(1)} | ${(wasm / js).toFixed(2)} |`);
}
