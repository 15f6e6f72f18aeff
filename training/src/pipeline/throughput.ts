/**
 * Training-throughput probe for choosing the demo model's config (prints numbers, never asserts):
 *   npx tsx training/src/pipeline/throughput.ts [--backend wasm] [--sizes 512,384,256]
 *     [--configs 16:1111,24:1111,32:2222] [--batch 4] [--steps 3]
 * For each config × size: one training step = augmentation + forward + backward + SGD update on
 * random images (the real loop's work minus preprocessing, which is cached after epoch 1), and a
 * forward-only pass (validation / inference). Reports median seconds per step and images/second.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { buildCompactResNet } from '../../../src/core/model/index';
import { augment } from '../augment';
import { pickBackend, withoutImageGradient } from '../backend';
import { trainingLoss } from '../loss';
import { Rng } from './rng';

const median = (a: number[]) => {
  const s = a.slice().sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'wasm' },
      sizes: { type: 'string', default: '512,384,256' },
      configs: { type: 'string', default: '16:1111,24:1111,32:2222' },
      batch: { type: 'string', default: '4' },
      steps: { type: 'string', default: '3' },
    },
  });
  const backend = await pickBackend(values.backend);
  const sizes = values.sizes!.split(',').map(Number);
  const configs = values.configs!.split(',').map((c) => {
    const [w, b] = c.split(':');
    return { width: Number(w), blocks: b.split('').map(Number) };
  });
  const batch = Number(values.batch);
  const steps = Number(values.steps);
  const rng = new Rng(1);
  const rows: string[] = [];
  rows.push(`| config | params | input | batch | train s/step (wall) | train s/step (CPU) | train img/s (CPU) | forward img/s (wall) |`);
  rows.push(`|---|---|---|---|---|---|---|---|`);
  for (const c of configs) {
    for (const size of sizes) {
      const net = buildCompactResNet({ inputSize: size, width: c.width, blocks: c.blocks, seed: 1 });
      const opt = tf.train.momentum(0.01, 0.9);
      const w = { pos: [1, 1, 1, 1, 1], neg: [1, 1, 1, 1, 1] };
      const vars = net.trainableWeights.map((v) => v.read() as tf.Variable);
      const times: number[] = [];
      const cpuTimes: number[] = [];
      let failed = '';
      try {
        for (let s = 0; s <= steps; s++) {
          const t = performance.now();
          const c0 = process.cpuUsage();
          const x0 = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', s) as tf.Tensor4D;
          const x = augment(x0, rng);
          const y = tf.tensor2d(Array.from({ length: batch * 5 }, (_, i) => (i % 3 === 0 ? 1 : 0)), [batch, 5]);
          const cost = withoutImageGradient(x.shape, () => opt.minimize(() => trainingLoss(net.apply(x, { training: true }) as tf.Tensor2D, y, null, w), true, vars));
          await cost!.data();
          tf.dispose([x0, x, y, cost!]);
          const cu = process.cpuUsage(c0);
          if (s > 0) {
            // step 0 = warm-up. CPU time of this (single-threaded) process is what the step costs on
            // an idle core; wall time also counts waiting for the 2 cores shared with other work.
            times.push((performance.now() - t) / 1000);
            cpuTimes.push((cu.user + cu.system) / 1e6);
          }
        }
      } catch (e) {
        failed = (e as Error).message.slice(0, 60);
      }
      const ft: number[] = [];
      if (!failed) {
        for (let s = 0; s <= steps; s++) {
          const t = performance.now();
          const out = tf.tidy(() => net.apply(tf.zeros([batch, size, size, 3]), { training: false }) as tf.Tensor);
          await out.data();
          out.dispose();
          if (s > 0) ft.push((performance.now() - t) / 1000);
        }
      }
      const st = failed ? NaN : median(times);
      const ct = failed ? NaN : median(cpuTimes);
      const row = `| w${c.width} [${c.blocks.join(',')}] | ${(net.countParams() / 1e6).toFixed(2)} M | ${size}² | ${batch} | ${failed ? 'FAILED: ' + failed : st.toFixed(2)} | ${failed ? '-' : ct.toFixed(2)} | ${failed ? '-' : (batch / ct).toFixed(2)} | ${failed ? '-' : (batch / median(ft)).toFixed(1)} |`;
      rows.push(row);
      process.stderr.write(row + '\n');
      opt.dispose();
      net.dispose();
    }
  }
  process.stdout.write(`\nbackend ${backend}, ${steps} timed steps after 1 warm-up, median\n${rows.join('\n')}\n`);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
