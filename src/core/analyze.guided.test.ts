/**
 * analyze() and explainDetails() run guided backprop from the recorded forward (explain/guided-pass); the maps must
 * be those of the tf.grad path through the whole net, which they fall back to for a model the recorded backward has
 * no rule for. The fallback is forced here by making recordFeatures() return null.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { analyze, explainDetails } from './analyze';
import { syntheticFundus, tinyModelOnCpu } from './analyze.test-fixtures';
import { maxAbsDiff } from './tensor.test-fixtures';
import { wrapModel, type FundusModel } from './model/fundus-model';
import { defaultLabels } from './model/labels';
import { codrasPhotos, decodeFile } from '../test-utils/photos';
import type { RgbImage } from './types';

const mode = vi.hoisted(() => ({ record: true, calls: 0 }));
vi.mock('./explain/guided-pass', async (importOriginal) => {
  const real = await importOriginal<typeof import('./explain/guided-pass')>();
  return {
    ...real,
    recordFeatures: (...args: Parameters<typeof real.recordFeatures>) => {
      mode.calls++;
      return mode.record ? real.recordFeatures(...args) : null;
    },
  };
});

describe('guided maps from the recorded forward', () => {
  let model: FundusModel;
  let real: RgbImage;
  beforeAll(async () => {
    ({ model, photo: real } = await tinyModelOnCpu(() => decodeFile(codrasPhotos()[0])));
  });
  afterAll(() => model.dispose());

  it('analyze(maps: all) and explainDetails(): the same maps as the tf.grad path, probabilities bit-identical, no leaks', async () => {
    for (const photo of [real, syntheticFundus()]) {
      const before = tf.memory().numTensors;
      mode.record = true;
      mode.calls = 0;
      const fast = await analyze(photo, model, { maps: 'all', force: true });
      const fastDetails = await explainDetails(photo, model, fast);
      expect(mode.calls).toBe(2);
      mode.record = false;
      const slow = await analyze(photo, model, { maps: 'all', force: true });
      const slowDetails = await explainDetails(photo, model, slow);
      expect(tf.memory().numTensors).toBe(before);
      expect(fast.probabilities).toEqual(slow.probabilities);
      expect(fast.maps!.guidedGradCam!.map((m) => m.label)).toEqual(['ma', 'hex']);
      for (const [a, b] of [
        [fast.maps!.guidedGradCam!, slow.maps!.guidedGradCam!],
        [fastDetails.guidedGradCam, slowDetails.guidedGradCam],
      ]) {
        a.forEach((m, i) => {
          expect(Math.max(...m.data)).toBeGreaterThan(0);
          expect(maxAbsDiff(m.data, b[i].data)).toBeLessThan(1e-5);
        });
      }
      expect(maxAbsDiff(fast.maps!.combined!, slow.maps!.combined!)).toBeLessThan(1e-5);
      expect(maxAbsDiff(fastDetails.combined, slowDetails.combined)).toBeLessThan(1e-5);
      expect(fast.outlines).toEqual(slow.outlines);
    }
  });

  it('maps: all with no positive lesion label: Grad-CAM for every lesion label, no guided maps, nothing left behind', async () => {
    const cautious = wrapModel(model.net, { ...model.metadata, labels: defaultLabels({ ma: 1, hm: 1, hex: 1, cws: 1, healthy: 0 }) });
    mode.record = true;
    mode.calls = 0;
    const before = tf.memory().numTensors;
    const r = await analyze(real, cautious, { maps: 'all' });
    expect(tf.memory().numTensors).toBe(before);
    expect(mode.calls).toBe(1);
    expect(r.summary).toBe('healthy');
    expect(r.maps!.gradCam).toHaveLength(4);
    expect(r.maps!.gradCam.every((m) => m.data.some((v) => v > 0))).toBe(true);
    expect(r.maps!.guidedGradCam).toEqual([]);
    expect(r.maps!.combined!.every((v) => v === 0)).toBe(true);
  });

  it('records only when a guided map may follow (maps: all, or Guided Grad-CAM outlines)', async () => {
    mode.record = true;
    mode.calls = 0;
    await analyze(real, model, { maps: 'gradcam' });
    await analyze(real, model);
    expect(mode.calls).toBe(0);
    const r = await analyze(real, model, { outlineSource: 'guided-gradcam' });
    expect(mode.calls).toBe(1);
    expect(r.outlines.length).toBeGreaterThan(0);
  });
});
