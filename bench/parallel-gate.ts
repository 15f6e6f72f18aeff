/**
 * `npx tsx bench/parallel-gate.ts`: what running the photo checks (FOV, gradability gate, optic
 * disc: core/photo-checks.ts) in a second thread beside the model saves on one analysis, as the
 * app does with its photo-checks worker. A script that prints numbers; it asserts nothing.
 *
 *   npx tsx bench/parallel-gate.ts [--backend wasm] [--model demo|resnet50] [--maps gradcam|all|none] [--k 0] [--runs 10]
 *
 * Node, one process: analyze() with the checks inline and with `photoChecks` from a worker
 * thread, alternating run by run on bench/out/photo.jpg (2144×1424; `npm run bench` makes it).
 * Reports wall-clock medians, the checks' own time in the thread, and the ratio. `--k K` forces
 * K lesion labels positive (their outlines, and with --maps all their guided backprop). The
 * gain needs a free core: two busy threads on this 2-vCPU machine run each ~1.7 × slower.
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { analyze } from '../src/core/analyze';
import { setupBackend } from '../src/core/backends/index';
import { loadBundle } from '../src/core/model/bundle';
import type { PhotoChecks } from '../src/core/photo-checks';
import type { RgbImage } from '../src/core/types';
import { decodeImage } from '../src/cli/decode';
import { fsBundleReader } from '../src/cli/fs-bundle';
import { stats, withPositiveLabels } from './lib/measure';

const ROOT = resolve(import.meta.dirname, '..');
const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    backend: { type: 'string', default: 'wasm' },
    model: { type: 'string', default: 'demo' },
    maps: { type: 'string', default: 'gradcam' },
    k: { type: 'string', default: '0' },
    runs: { type: 'string', default: '10' },
  },
});
const PHOTO = join(ROOT, 'bench', 'out', 'photo.jpg');
const dir = flags.model === 'demo' ? join(ROOT, 'public', 'models', 'demo') : join(ROOT, 'bench', 'out', 'models', flags.model!);
for (const [what, path] of [['photo', PHOTO], ['model', join(dir, 'model.json')]]) {
  if (!existsSync(path)) throw new Error(`no ${what} at ${path} (npm run bench -- --quick --node-only makes the bench photo and the ResNet50 bundle)`);
}
const maps = flags.maps as 'none' | 'gradcam' | 'all';
const k = Number(flags.k);
const runs = Number(flags.runs);

await setupBackend([flags.backend!]);
const loaded = await loadBundle(fsBundleReader(dir), { foldBatchNorm: true });
await loaded.warmup();
const model = k > 0 ? withPositiveLabels(loaded, k) : loaded;
const image: RgbImage = await decodeImage(PHOTO);

const thread = new Worker(new URL('./lib/photo-checks-thread.mjs', import.meta.url));
let nextId = 1;
const waiting = new Map<number, (c: PhotoChecks) => void>();
thread.on('message', (m: { id: number; checks: PhotoChecks }) => {
  waiting.get(m.id)?.(m.checks);
  waiting.delete(m.id);
});
// like the app's client: the pixels are copied to the thread (structured clone)
const inThread = (): Promise<PhotoChecks> =>
  new Promise((done) => {
    const id = nextId++;
    waiting.set(id, done);
    thread.postMessage({ id, image });
  });

const inline: number[] = [];
const parallel: number[] = [];
const gate: number[] = [];
const gateInline: number[] = [];
const warm = 2;
for (let run = 0; run < runs + warm; run++) {
  let t0 = performance.now();
  const a = await analyze(image, model, { maps, force: k > 0 });
  const tInline = performance.now() - t0;
  t0 = performance.now();
  const b = await analyze(image, model, { maps, force: k > 0, photoChecks: inThread() });
  const tParallel = performance.now() - t0;
  if (JSON.stringify(a.probabilities) !== JSON.stringify(b.probabilities) || a.outlines.length !== b.outlines.length) throw new Error('parallel and inline results differ');
  if (run < warm) continue;
  inline.push(tInline);
  parallel.push(tParallel);
  gate.push(b.timingsMs.quality ?? NaN);
  gateInline.push(a.timingsMs.quality ?? NaN);
}
await thread.terminate();
const si = stats(inline);
const sp = stats(parallel);
console.log(`${flags.backend} ${flags.model}, maps '${maps}', k = ${k}, ${runs} runs after ${warm} warm-up pairs; ${cpus().length} CPUs, load ${loadavg()[0].toFixed(2)}`);
console.log(`  inline gate:        whole analysis ${si.median} ms (${si.min}–${si.max}), of which the gate ${stats(gateInline).median} ms`);
console.log(`  gate in a thread:   whole analysis ${sp.median} ms (${sp.min}–${sp.max}); the gate took ${stats(gate).median} ms there`);
console.log(`  parallel ÷ inline:  ${(sp.median / si.median).toFixed(2)}`);
tf.disposeVariables();
