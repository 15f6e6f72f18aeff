/**
 * Where guided backprop spends its time on a backend: one warm pass of guided backprop (1 label)
 * and one forward pass under tf.profile, kernel times summed per kernel name.
 *
 *   npx tsx bench/profile-guided.ts [--backend wasm] [--model resnet50|demo] [--runs 2] [--detail] [--k K] [--skip-profile]
 *
 * --k K also times the whole analysis (analyze(), maps 'all', K lesion labels forced positive,
 * on bench/out/photo.jpg) and prints total ÷ F·(1 + 2K) in wall and CPU time. --detail lists every
 * Conv2D kernel call (DETAIL=<regexp> picks other kernels).
 *
 * A diagnostic script (prints numbers, asserts nothing). It prints wall and CPU time (see timed). Kernel times are wall-clock per kernel
 * call (wasm is synchronous), so they add up to about the pass time on wasm/cpu; on GPU backends
 * they are submission times, not execution times. Our custom kernels (src/core/backends) call
 * other wasm kernels directly, so e.g. Conv2DBackpropInput appears as one entry.
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setupBackend } from '../src/core/backends/index';
import { fsBundleReader } from '../src/cli/fs-bundle';
import { loadBundle } from '../src/core/model/bundle';
import { analyze } from '../src/core/analyze';
import { decodeImage } from '../src/cli/decode';
import { guided1Step, withPositiveLabels } from './lib/measure';

const ROOT = resolve(import.meta.dirname, '..');
const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    backend: { type: 'string', default: 'wasm' },
    model: { type: 'string', default: 'resnet50' },
    runs: { type: 'string', default: '2' },
    detail: { type: 'boolean', default: false },
    k: { type: 'string', default: '0' },
    'skip-profile': { type: 'boolean', default: false },
  },
});
const dir = flags.model === 'demo' ? join(ROOT, 'public', 'models', 'demo') : join(ROOT, 'bench', 'out', 'models', flags.model!);
if (!existsSync(join(dir, 'model.json'))) throw new Error(`no model at ${dir} (npm run bench -- --models resnet50 builds bench/out/models/resnet50 once)`);

await setupBackend([flags.backend!]);
const model = await loadBundle(fsBundleReader(dir), { foldBatchNorm: true });
const size = model.metadata.inputSize;
const x = tf.tidy(() => tf.randomUniform([1, size, size, 3], 0, 1, 'float32', 7) as tf.Tensor4D);
const forward = () => tf.tidy(() => model.net.apply(x, { training: false }) as tf.Tensor);
// the GB1 step of the bench: what analyze() runs for one label
const guided = () => guided1Step(model, x);

/**
 * Wall time AND this process's CPU time (user + system): wasm in Node runs on one thread, so CPU
 * time is the work done, nearly independent of how many other jobs share the cores — on this
 * 2-core machine at load 5–9, wall-clock F varied 1.9–7.3 s between runs, CPU time by a few %.
 */
const cpu: number[] = [];
async function timed(f: () => tf.Tensor): Promise<number> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const t = f();
  await t.data();
  t.dispose();
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1000);
  return performance.now() - t0;
}

// warm-up: kernels set up, XNNPACK operators created, caches filled
await timed(forward);
await timed(guided);
const runs = Number(flags.runs);
const fs: number[] = [];
const gs: number[] = [];
const fc: number[] = [];
const gc: number[] = [];
for (let i = 0; i < runs; i++) {
  fs.push(await timed(forward));
  fc.push(cpu.at(-1)!);
  gs.push(await timed(guided));
  gc.push(cpu.at(-1)!);
}
const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor((a.length - 1) / 2)];
const F = med(fs);
const G = med(gs);
// wasm's heap only grows: its size after the passes is the peak they needed
const heap = (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm?.HEAPU8.length;
console.log(
  `${flags.backend} ${flags.model}@${size}: load ${loadavg()[0].toFixed(2)}; forward F ${F.toFixed(0)} ms, guided backprop (1 label) ${G.toFixed(0)} ms = ${(G / F).toFixed(2)} F` +
    `  [samples F ${fs.map((v) => v.toFixed(0)).join(', ')}; GB ${gs.map((v) => v.toFixed(0)).join(', ')}]${heap ? `; wasm heap ${(heap / 2 ** 20).toFixed(0)} MiB` : ''}`,
);
console.log(
  `  CPU time: F ${med(fc).toFixed(0)} ms, guided backprop ${med(gc).toFixed(0)} ms = ${(med(gc) / med(fc)).toFixed(2)} F  [samples F ${fc.map((v) => v.toFixed(0)).join(', ')}; GB ${gc.map((v) => v.toFixed(0)).join(', ')}]`,
);

async function profile(name: string, f: () => tf.Tensor): Promise<void> {
  const info = await tf.profile(async () => {
    const t = f();
    await t.data();
    t.dispose();
  });
  const by = new Map<string, { ms: number; n: number }>();
  const detail: string[] = [];
  let total = 0;
  for (const k of info.kernels) {
    const ms = await k.kernelTimeMs;
    const v = typeof ms === 'number' ? ms : 0;
    if (flags.detail && new RegExp(process.env.DETAIL ?? "Conv2D").test(k.name)) detail.push(`  ${k.name.padEnd(22)} ${v.toFixed(1).padStart(7)} ms  in ${JSON.stringify(k.inputShapes)} out ${JSON.stringify(k.outputShapes)}`);
    const e = by.get(k.name) ?? { ms: 0, n: 0 };
    e.ms += v;
    e.n++;
    by.set(k.name, e);
    total += v;
  }
  console.log(`\n${name}: ${info.kernels.length} kernel calls, ${total.toFixed(0)} ms in kernels`);
  for (const [k, e] of [...by.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 18)) {
    console.log(`  ${k.padEnd(24)} ${e.ms.toFixed(0).padStart(6)} ms  ${((100 * e.ms) / total).toFixed(1).padStart(5)} %  ×${e.n}`);
  }
  if (detail.length) console.log(detail.join('\n'));
}
const k = Number(flags.k);
if (k > 0) {
  const img = await decodeImage(join(ROOT, 'bench', 'out', 'photo.jpg'));
  const m = withPositiveLabels(model, k);
  const wall: number[] = [];
  const cpuT: number[] = [];
  let kActual = 0;
  for (let i = 0; i <= runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await analyze(img, m, { force: true, maps: 'all' });
    const c = process.cpuUsage(c0);
    // the floor counts the guided maps really computed (a label the model is sure of stays positive at threshold 1)
    kActual = r.maps?.guidedGradCam?.length ?? 0;
    if (i === 0) continue; // warm-up
    wall.push(performance.now() - t0);
    cpuT.push((c.user + c.system) / 1000);
  }
  const floorW = F * (1 + 2 * kActual);
  const floorC = med(fc) * (1 + 2 * kActual);
  console.log(
    `whole analysis, k = ${k} (guided maps computed: ${kActual}): wall ${med(wall).toFixed(0)} ms = ${(med(wall) / floorW).toFixed(2)} × floor; CPU ${med(cpuT).toFixed(0)} ms = ${(med(cpuT) / floorC).toFixed(2)} × floor` +
      `  [wall ${wall.map((v) => v.toFixed(0)).join(', ')}; CPU ${cpuT.map((v) => v.toFixed(0)).join(', ')}]`,
  );
}
if (!flags['skip-profile']) {
  await profile('forward', forward);
  await profile('guided backprop, 1 label', guided);
}
x.dispose();
model.dispose();
