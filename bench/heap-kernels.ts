/**
 * `npx tsx bench/heap-kernels.ts [--runs 30] [--model demo|resnet50]`: the wasm backend's heap kernels
 * (src/core/backends/heap-kernels.wat: MaxPoolGrad and the strided input gradient's copies on tfjs' own memory)
 * on and off, interleaved run by run in one process so the host's drifting load hits both alike. Prints medians
 * of a forward pass F, of guided backprop for one label with its own forward (GB1, as `npm run bench` times it)
 * and of MaxPoolGrad alone on the model's stem-pool shape, and checks that both paths give the same guided map,
 * bit for bit. A script that prints numbers; it never passes or fails on time.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { fsBundleReader } from '../src/cli/fs-bundle';
import { setupBackend } from '../src/core/backends/index';
import { heapKernels, setHeapKernelsEnabled } from '../src/core/backends/heap-kernels';
import { loadBundle } from '../src/core/model/bundle';
import { guided1Step } from './lib/measure';

const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: { runs: { type: 'string', default: '30' }, model: { type: 'string', default: 'demo' } },
});
const runs = Number(flags.runs);
await setupBackend(['wasm']);
console.log(`heap kernels ${heapKernels(tf.backend()) ? 'available' : 'NOT available here (both rows are JS)'}; ${runs} runs per path after 2 warm-up runs`);
// the demo bundle, or the random-weight ResNet50 bundle `npm run bench` caches
const dir = flags.model === 'resnet50' ? join(import.meta.dirname, 'out', 'models', 'resnet50') : join(import.meta.dirname, '..', 'public', 'models', 'demo');
if (!existsSync(join(dir, 'model.json'))) {
  console.error(`${dir} is missing: run \`npm run bench -- --node-only --backends wasm --models resnet50 --runs 1\` once to make it.`);
  process.exit(2);
}
const model = await loadBundle(fsBundleReader(dir), { foldBatchNorm: true });
const x = tf.randomUniform([1, 512, 512, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
// the stem pool's input as the model makes it: ReLU zeros included (ties)
const poolLayer = model.net.layers.find((l) => l.getClassName() === 'MaxPooling2D');
const poolIn = poolLayer
  ? (tf.relu(tf.randomNormal((poolLayer.input as tf.SymbolicTensor).shape.map((d) => d ?? 1) as [number, number, number, number])) as tf.Tensor4D)
  : null;
const pooled = poolIn ? tf.maxPool(poolIn, 3, 2, 'same') : null;
const poolDy = pooled ? tf.randomNormal(pooled.shape) : null;
const poolAttrs = { filterSize: 3, strides: 2, pad: 'same' } as unknown as tf.NamedAttrMap;

type Row = { f: number[]; gb1: number[]; pool: number[]; map?: Float32Array };
const rows: Record<'heap' | 'js', Row> = { heap: { f: [], gb1: [], pool: [] }, js: { f: [], gb1: [], pool: [] } };
for (let i = 0; i < runs + 2; i++) {
  for (const path of ['heap', 'js'] as const) {
    setHeapKernelsEnabled(path === 'heap');
    const r = rows[path];
    let t0 = performance.now();
    const y = model.net.predict(x) as tf.Tensor;
    await y.data();
    y.dispose();
    const f = performance.now() - t0;
    t0 = performance.now();
    const g = guided1Step(model, x);
    const map = (await g.data()) as Float32Array;
    g.dispose();
    const gb1 = performance.now() - t0;
    let pool = NaN;
    if (poolIn && pooled && poolDy) {
      t0 = performance.now();
      const d = tf.engine().runKernel('MaxPoolGrad', { dy: poolDy, input: poolIn, output: pooled }, poolAttrs) as tf.Tensor;
      pool = performance.now() - t0;
      d.dispose();
    }
    if (i < 2) continue;
    r.f.push(f);
    r.gb1.push(gb1);
    r.pool.push(pool);
    r.map = map;
  }
}
setHeapKernelsEnabled(true);

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const a = rows.heap.map!, b = rows.js.map!;
let same = a.length === b.length;
for (let i = 0; same && i < a.length; i++) same = Object.is(a[i], b[i]);
console.log(`\n${flags.model}@512, Node wasm${poolIn ? `; MaxPoolGrad on ${poolIn.shape.join('×')}` : ''}`);
console.log('| path | F (ms) | GB1 (ms) | GB1 ÷ F | MaxPoolGrad (ms) |\n|---|---:|---:|---:|---:|');
for (const path of ['heap', 'js'] as const) {
  const r = rows[path];
  console.log(`| ${path === 'heap' ? 'heap kernels' : 'JS passes'} | ${median(r.f).toFixed(1)} | ${median(r.gb1).toFixed(1)} | ${(median(r.gb1) / median(r.f)).toFixed(2)} | ${median(r.pool).toFixed(2)} |`);
}
console.log(`guided maps identical bit for bit: ${same ? 'yes' : 'NO'}`);
