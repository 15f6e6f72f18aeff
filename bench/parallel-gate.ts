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
import { setupBackend } from '../src/core/backends/index';
import { loadBundle } from '../src/core/model/bundle';
import type { RgbImage } from '../src/core/types';
import { decodeImage } from '../src/cli/decode';
import { fsBundleReader } from '../src/cli/fs-bundle';
import { checksFromThread, measureGateBeside } from './lib/gate-beside';
import { withPositiveLabels } from './lib/measure';

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
const r = await measureGateBeside(model, image, { maps, k, runs, warm: 2, checks: checksFromThread(thread) });
await thread.terminate();
console.log(`${flags.backend} ${flags.model}, maps '${maps}', k = ${k}, ${runs} runs after ${r.warm} warm-up pairs; ${cpus().length} CPUs, load ${loadavg()[0].toFixed(2)}`);
console.log(`  inline gate:        whole analysis ${r.inline.median} ms (${r.inline.min}–${r.inline.max}), of which the gate ${r.gateInline.median} ms`);
console.log(`  gate in a thread:   whole analysis ${r.beside.median} ms (${r.beside.min}–${r.beside.max}); the gate took ${r.gateBeside.median} ms there`);
console.log(`  parallel ÷ inline:  ${r.ratio.toFixed(2)}`);
tf.disposeVariables();
