/**
 * warmUpAnalysis() exists so that a shader backend (WebGL, WebGPU) compiles every program of an analysis before the
 * first photo. Programs are cached per kernel and shapes, so "warmed" means: every kernel an analysis runs, with the
 * same input and output shapes, ran in the warm-up. tf.profile() lists them on any backend; cpu here.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze, warmUpAnalysis, type WarmUpOptions } from './analyze';
import { syntheticFundus, tinyModelOnCpu } from './analyze.test-fixtures';
import type { FundusModel } from './model/fundus-model';
import type { AnalyzeOptions } from './analyze';
import type { RgbImage } from './types';

/** The distinct kernel calls (name and shapes) of `f`. */
async function kernelCalls(f: () => Promise<unknown>): Promise<Set<string>> {
  const info = await tf.profile(async () => {
    await f();
    return [];
  });
  return new Set(info.kernels.map((k) => `${k.name} ${JSON.stringify(k.inputShapes)} -> ${JSON.stringify(k.outputShapes)}`));
}

const missing = (needed: Set<string>, ran: Set<string>) => [...needed].filter((k) => !ran.has(k));

describe('warmUpAnalysis', () => {
  let model: FundusModel;
  let photo: RgbImage;
  beforeAll(async () => {
    ({ model, photo } = await tinyModelOnCpu(async () => syntheticFundus()));
  });
  afterAll(() => model.dispose());

  const cases: { name: string; analyze: AnalyzeOptions; warm: WarmUpOptions; positives: number }[] = [
    { name: 'Grad-CAM only', analyze: { maps: 'gradcam' }, warm: {}, positives: 2 },
    { name: 'all maps (guided backprop for the 2 positive labels)', analyze: { maps: 'all' }, warm: { guidedLabels: [2] }, positives: 2 },
    { name: 'HiResCAM, all maps', analyze: { maps: 'all', cam: 'hirescam' }, warm: { cam: 'hirescam', guidedLabels: [1, 2] }, positives: 2 },
  ];
  for (const c of cases) {
    it(`runs every kernel, with its shapes, that an analysis runs: ${c.name}`, async () => {
      const result = await analyze(photo, model, { force: true, ...c.analyze }); // JIT and caches, as in the app
      expect(Object.values(result.positive).filter(Boolean).length - (result.positive.healthy ? 1 : 0)).toBe(c.positives);
      const needed = await kernelCalls(() => analyze(photo, model, { force: true, ...c.analyze }));
      const ran = await kernelCalls(() => warmUpAnalysis(model, c.warm));
      expect(needed.size).toBeGreaterThan(10);
      expect(missing(needed, ran)).toEqual([]);
    });
  }

  it('does not warm guided backprop for another number of labels (its shapes depend on it)', async () => {
    const needed = await kernelCalls(() => analyze(photo, model, { force: true, maps: 'all' }));
    const ran = await kernelCalls(() => warmUpAnalysis(model, { guidedLabels: [1] }));
    expect(missing(needed, ran).length).toBeGreaterThan(0);
  });

  it('leaks no tensor, stops when the signal says so, and ignores label counts the model cannot have', async () => {
    const before = tf.memory().numTensors;
    await warmUpAnalysis(model, { guidedLabels: [0, 1, 2, 3, 4, 9] });
    expect(tf.memory().numTensors).toBe(before);
    const aborted = await kernelCalls(() => warmUpAnalysis(model, { guidedLabels: [1, 2], signal: { aborted: true } }));
    expect(tf.memory().numTensors).toBe(before);
    // stopped after the forward: nothing of the class maps or guided backprop ran
    const full = await kernelCalls(() => warmUpAnalysis(model, { guidedLabels: [1, 2] }));
    const forwardOnly = await kernelCalls(() => model.warmup());
    expect(aborted.size).toBeLessThanOrEqual(forwardOnly.size + 2);
    expect(full.size).toBeGreaterThan(aborted.size + 10);
  });
});
