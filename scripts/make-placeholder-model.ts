/**
 * Writes an UNTRAINED, random-weight compact model bundle to public/models/demo/ so the
 * app has something to load before the trained demo model lands. Its metadata says so
 * loudly (name, summary, limitations, training.placeholder = true — the app shows a
 * warning banner for it). Small and fast on purpose: 256² input, width 8.
 *
 *   npx tsx scripts/make-placeholder-model.ts [outDir]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildCompactResNet, defaultLabels, saveBundle, GRADCAM_LAYER_DEFAULT } from '../src/core/model';
import { DEFAULT_PREPROCESS } from '../src/core/preprocess';

async function main() {
  await tf.setBackend('cpu');
  const out = resolve(process.argv[2] ?? 'public/models/demo');
  const inputSize = 256;
  const net = buildCompactResNet({ inputSize, width: 8, blocks: [1, 1, 1, 1], seed: 7 });
  const writer = {
    async write(path: string, data: Uint8Array) {
      const file = join(out, path);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, data);
    },
  };
  const meta = await saveBundle(
    net,
    {
      schemaVersion: 1,
      name: 'UNTRAINED placeholder',
      version: '0.0.0-placeholder',
      architecture: 'compact ResNet (width 8, blocks [1,1,1,1]) + paper 3-conv head, RANDOM WEIGHTS',
      labels: defaultLabels(),
      inputSize,
      preprocess: { ...DEFAULT_PREPROCESS, inputSize },
      gradCamLayer: GRADCAM_LAYER_DEFAULT,
      intendedUse:
        'NONE — this is an UNTRAINED placeholder with random weights, shipped only so the app can be developed and tested before the trained model is available. Its outputs are meaningless.',
      limitations: ['Random weights: every probability, verdict, heat map and outline it produces is meaningless.', 'Replace with a trained bundle (npm run train, then export) before any use.'],
      training: { summary: 'NOT TRAINED — random initialisation (seed 7).', datasets: [], placeholder: true },
      evaluation: [],
      createdAt: new Date().toISOString(),
    },
    writer,
  );
  console.log(`wrote ${out}: ${Object.keys(meta.weightsSha256).join(', ')}`);
  net.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
