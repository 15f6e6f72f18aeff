/**
 * Lazy guided backprop: analyze(maps: 'gradcam') first, explainDetails() later must give the
 * maps analyze(maps: 'all') gives, with or without the kept model input, leak no tensors,
 * honour cancellation and refuse a result from another model.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze, explainDetails } from './analyze';
import { syntheticFundus, tinyModelOnCpu, TINY_SIZE as S } from './analyze.test-fixtures';
import { maxAbsDiff } from './tensor.test-fixtures';
import { isFundusLensError } from './errors';
import type { FundusModel } from './model/fundus-model';
import { preprocess } from './preprocess/index';
import { codrasPhotos, decodeFile } from '../test-utils/photos';
import type { RgbImage } from './types';

describe('explainDetails() — Guided Grad-CAM on demand', () => {
  let model: FundusModel;
  let real: RgbImage;
  beforeAll(async () => {
    ({ model, photo: real } = await tinyModelOnCpu(() => decodeFile(codrasPhotos()[0])));
  });
  afterAll(() => model.dispose());

  it('gives the same Guided Grad-CAM and combined maps as analyze(maps: all), from the kept input or from the photo', async () => {
    const eager = await analyze(real, model, { maps: 'all' });
    let kept: Float32Array | null = null;
    let keptSize = 0;
    const lazy = await analyze(real, model, {
      maps: 'gradcam',
      onInput: (input, size) => {
        kept = input;
        keptSize = size;
      },
    });
    // the first result carries no guided maps and paid no guided backprop
    expect(lazy.maps?.guidedGradCam).toBeUndefined();
    expect(lazy.maps?.combined).toBeUndefined();
    expect(lazy.timingsMs.guidedBackprop).toBeUndefined();
    expect(lazy.positive).toEqual(eager.positive);
    expect(lazy.outlines).toEqual(eager.outlines);

    // the kept input is the model input preprocess() makes
    expect(keptSize).toBe(S);
    const ref = preprocess(real, model.metadata.preprocess, eager.fov);
    expect(maxAbsDiff(kept!, ref.input.dataSync())).toBe(0);
    ref.input.dispose();

    const before = tf.memory().numTensors;
    const stages: string[] = [];
    const fromInput = await explainDetails(null, model, lazy, { input: kept!, onProgress: (s) => stages.push(s) });
    const fromPhoto = await explainDetails(real, model, lazy);
    expect(tf.memory().numTensors).toBe(before);
    expect(stages).toEqual(['forward', 'guidedBackprop', 'total']);
    expect(fromPhoto.timingsMs.preprocess).toBeGreaterThanOrEqual(0);
    expect(fromInput.timingsMs.preprocess).toBeUndefined();

    const want = eager.maps!.guidedGradCam!;
    expect(want.map((m) => m.label)).toEqual(['ma', 'hex']); // the tiny model's positives
    for (const got of [fromInput, fromPhoto]) {
      expect(got.guidedGradCam.map((m) => m.label)).toEqual(want.map((m) => m.label));
      got.guidedGradCam.forEach((m, i) => {
        expect(m.width).toBe(S);
        expect(maxAbsDiff(m.data, want[i].data)).toBeLessThan(1e-6);
      });
      expect(maxAbsDiff(got.combined, eager.maps!.combined!)).toBeLessThan(1e-6);
      let peak = 0;
      for (const v of got.combined) peak = Math.max(peak, v);
      expect(peak).toBeGreaterThan(0.5); // a real map, not an empty one
    }
  });

  it('cam: hirescam — recorded on the result, different maps, and explainDetails() follows the result, not a default', async () => {
    const grad = await analyze(real, model, { maps: 'all' });
    const hires = await analyze(real, model, { maps: 'all', cam: 'hirescam' });
    expect(grad.camMethod).toBe('gradcam');
    expect(hires.camMethod).toBe('hirescam');
    expect(hires.positive).toEqual(grad.positive); // the map never changes the verdict
    // the tiny model's head gates per cell, so at least one label's map must differ
    const diffs = hires.maps!.gradCam.map((m, i) => maxAbsDiff(m.data, grad.maps!.gradCam[i].data));
    expect(Math.max(...diffs)).toBeGreaterThan(1e-3);
    const lazy = await analyze(real, model, { maps: 'gradcam', cam: 'hirescam' });
    const d = await explainDetails(real, model, lazy);
    const want = hires.maps!.guidedGradCam!;
    expect(d.guidedGradCam.map((m) => m.label)).toEqual(want.map((m) => m.label));
    d.guidedGradCam.forEach((m, i) => expect(maxAbsDiff(m.data, want[i].data)).toBeLessThan(1e-6));
    // a result stored before camMethod existed is a Grad-CAM result
    const { camMethod: _drop, ...old } = { ...grad, maps: undefined };
    const fromOld = await explainDetails(real, model, old);
    fromOld.guidedGradCam.forEach((m, i) => expect(maxAbsDiff(m.data, grad.maps!.guidedGradCam![i].data)).toBeLessThan(1e-6));
  });

  it('guidedSaliency: the default is the lesion-contrast map; abs is the unsigned one; explainDetails() takes the same option', async () => {
    const byDefault = await analyze(real, model, { maps: 'all' });
    const contrast = await analyze(real, model, { maps: 'all', guidedSaliency: 'contrast' });
    const abs = await analyze(real, model, { maps: 'all', guidedSaliency: 'abs' });
    const labels = byDefault.maps!.guidedGradCam!.map((m) => m.label);
    expect(labels).toEqual(['ma', 'hex']); // one dark and one bright lesion label
    byDefault.maps!.guidedGradCam!.forEach((m, i) => expect(maxAbsDiff(m.data, contrast.maps!.guidedGradCam![i].data)).toBe(0));
    // ReLU(±Σ_c g) is not max_c |g|: both maps of the photo must change
    byDefault.maps!.guidedGradCam!.forEach((m, i) => expect(maxAbsDiff(m.data, abs.maps!.guidedGradCam![i].data)).toBeGreaterThan(1e-3));
    expect(abs.positive).toEqual(byDefault.positive);
    expect(abs.outlines).toEqual(byDefault.outlines); // outlines come from the class map, not from eq. 3
    const lazy = await analyze(real, model, { maps: 'gradcam' });
    const d = await explainDetails(real, model, lazy, { guidedSaliency: 'abs' });
    d.guidedGradCam.forEach((m, i) => expect(maxAbsDiff(m.data, abs.maps!.guidedGradCam![i].data)).toBeLessThan(1e-6));
  });

  it('no positive lesion label, or an ungradable photo that was not forced: no maps, like analyze(maps: all)', async () => {
    const negative = { ...(await analyze(real, model, { maps: 'gradcam' })) };
    negative.positive = { ma: false, hm: false, hex: false, cws: false, healthy: true };
    const none = await explainDetails(real, model, negative);
    expect(none.guidedGradCam).toEqual([]);
    expect(none.combined.length).toBe(S * S);
    expect(none.combined.every((v) => v === 0)).toBe(true);

    const grey: RgbImage = { width: 120, height: 90, channels: 3, data: new Uint8Array(120 * 90 * 3).fill(128) };
    const ungradable = await analyze(grey, model, { maps: 'gradcam' });
    expect(ungradable.summary).toBe('ungradable');
    const d = await explainDetails(grey, model, ungradable);
    expect(d.guidedGradCam).toEqual([]);
  });

  it('refuses a result of another model, stops on cancel, and leaks no tensors either way', async () => {
    const photo = syntheticFundus();
    const r = await analyze(photo, model, { force: true, maps: 'gradcam' });
    const before = tf.memory().numTensors;
    const wrong = await explainDetails(photo, model, { ...r, model: 'other@9.9.9' }).catch((e: unknown) => e);
    expect(isFundusLensError(wrong) && wrong.code).toBe('backend-failed');
    expect((wrong as Error).message).toContain('other@9.9.9');

    const signal = { aborted: false };
    const cancelled = await explainDetails(photo, model, r, {
      signal,
      onProgress: (s) => {
        if (s === 'forward') signal.aborted = true;
      },
    }).catch((e: unknown) => e);
    expect(isFundusLensError(cancelled) && cancelled.code).toBe('cancelled');
    const missing = await explainDetails(null, model, r).catch((e: unknown) => e);
    expect(isFundusLensError(missing)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
});
