/**
 * analyze() gives the same answer on the cpu and wasm backends (wasm with core/backends'
 * gradient kernels, as in the CLI and the app). Stated tolerances: probabilities 1e-4
 * absolute, Grad-CAM maps 2e-3 absolute, Guided Grad-CAM maps 2e-2 absolute (the guided
 * ReLU gates on the sign of tiny gradients, so float noise can flip single pixels).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { analyze } from './analyze';
import { syntheticFundus, tinyModel } from './analyze.test-fixtures';
import { setupBackend } from './backends/index';
import type { AnalysisResult } from './types';

const maxAbs = (a: Float32Array, b: Float32Array): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('analyze() on cpu vs wasm', () => {
  it('agrees within tolerance', async () => {
    const photo = syntheticFundus(240, 180);
    const run = async (backend: string): Promise<AnalysisResult> => {
      expect(await setupBackend([backend])).toBe(backend);
      const model = tinyModel(); // same seed -> same weights, created on this backend
      try {
        return await analyze(photo, model, { force: true, maps: 'all' });
      } finally {
        model.dispose();
      }
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    expect(cpu.backend).toBe('cpu');
    expect(wasm.backend).toBe('wasm');
    for (const id of Object.keys(cpu.probabilities) as (keyof AnalysisResult['probabilities'])[]) {
      expect(Math.abs(cpu.probabilities[id] - wasm.probabilities[id])).toBeLessThan(1e-4);
    }
    expect(wasm.positive).toEqual(cpu.positive);
    const diffs = {
      gradCam: cpu.maps!.gradCam.map((m, i) => maxAbs(m.data, wasm.maps!.gradCam[i].data)),
      guidedGradCam: cpu.maps!.guidedGradCam!.map((m, i) => maxAbs(m.data, wasm.maps!.guidedGradCam![i].data)),
      combined: maxAbs(cpu.maps!.combined!, wasm.maps!.combined!),
    };
    console.log('[cpu vs wasm] max abs differences', JSON.stringify(diffs));
    expect(cpu.maps!.gradCam).toHaveLength(4);
    for (const d of diffs.gradCam) expect(d).toBeLessThan(2e-3);
    for (const d of diffs.guidedGradCam) expect(d).toBeLessThan(2e-2);
    expect(diffs.combined).toBeLessThan(2e-2);
    expect(wasm.outlines.length).toBe(cpu.outlines.length);
    expect(tf.getBackend()).toBe('wasm');
  });
});
