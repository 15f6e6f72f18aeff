import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from './analyze';
import { checkerboard, syntheticFundus, tinyModelOnCpu, TINY_SIZE as S } from './analyze.test-fixtures';
import { buildCompactResNet } from './model/builders';
import { wrapModel, type FundusModel } from './model/fundus-model';
import { defaultLabels } from './model/labels';
import { codrasPhotos, decodeFile } from '../test-utils/photos';
import { isFundusLensError } from './errors';
import { fovMaskOnGrid, upsampleMap } from './lesions/geometry';
import { LABEL_IDS, type RgbImage, type StageName } from './types';



describe('analyze()', () => {
  let model: FundusModel;
  let real: RgbImage;
  // full size (1072×712): the size the quality gate was calibrated on
  beforeAll(async () => {
    ({ model, photo: real } = await tinyModelOnCpu(() => decodeFile(codrasPhotos()[0])));
  });
  afterAll(() => model.dispose());

  it('a real photo: gradable, thresholds from metadata, outlines only for positive lesion labels, in photo pixels', async () => {
    const stages: [StageName, number][] = [];
    const r = await analyze(real, model, { onProgress: (s, f) => stages.push([s, f]) });
    expect(r.quality.gradable).toBe(true);
    expect(r.forced).toBe(false);
    expect(r.model).toBe('tiny@1.2.3');
    expect(r.backend).toBe('cpu');
    for (const id of LABEL_IDS) {
      expect(r.probabilities[id]).toBeGreaterThan(0);
      expect(r.probabilities[id]).toBeLessThan(1);
    }
    expect(r.positive).toEqual({ ma: true, hm: false, hex: true, cws: false, healthy: false });
    expect(r.summary).toBe('dr-signs');
    expect(r.outlines.length).toBeGreaterThan(0);
    for (const o of r.outlines) {
      expect(['ma', 'hex']).toContain(o.label);
      expect(o.score).toBeGreaterThan(0);
      expect(o.score).toBeLessThanOrEqual(1);
      for (const [x, y] of o.points) {
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(real.width);
        expect(y).toBeGreaterThanOrEqual(0);
        expect(y).toBeLessThanOrEqual(real.height);
      }
    }
    expect(r.maps).toBeUndefined();
    expect(r.transform.photoWidth).toBe(real.width);
    for (const s of ['quality', 'preprocess', 'forward', 'gradcam', 'outlines', 'total'] as const) expect(r.timingsMs[s]).toBeGreaterThanOrEqual(0);
    expect(r.timingsMs.guidedBackprop).toBeUndefined();
    // progress: increasing fractions, ends with ('total', 1)
    expect(stages.map((s) => s[0])).toEqual(['quality', 'preprocess', 'forward', 'gradcam', 'outlines', 'total']);
    for (let i = 1; i < stages.length; i++) expect(stages[i][1]).toBeGreaterThanOrEqual(stages[i - 1][1]);
    expect(stages.at(-1)).toEqual(['total', 1]);
    // the result is plain data
    expect(() => structuredClone(r)).not.toThrow();
  });

  it('maps: gradcam -> every lesion label; all -> Guided Grad-CAM for positives + combined, all in 0..1 and zero outside the FOV', async () => {
    const g = await analyze(real, model, { maps: 'gradcam' });
    expect(g.maps?.gradCam.map((m) => m.label)).toEqual(['ma', 'hm', 'hex', 'cws']);
    expect(g.maps?.guidedGradCam).toBeUndefined();
    const a = await analyze(real, model, { maps: 'all', outlineSource: 'guided-gradcam' });
    expect(a.maps?.gradCam).toHaveLength(4);
    expect(a.maps?.guidedGradCam?.map((m) => m.label)).toEqual(['ma', 'hex']);
    expect(a.maps?.combined).toBeInstanceOf(Float32Array);
    expect(a.maps?.combined?.length).toBe(S * S);
    // the class maps come on the last block's grid (one value per cell); on the model grid they are upsampled and masked
    const grid = (model.features.outputs[0].shape as number[])[1];
    expect(grid).toBeLessThan(S);
    const fovMask = fovMaskOnGrid(a.fov, a.transform, S);
    for (const m of a.maps!.gradCam) {
      expect([m.width, m.height, m.data.length]).toEqual([grid, grid, grid * grid]);
      expect(Math.max(...m.data)).toBeCloseTo(1, 6); // normalised by its own peak
    }
    const onGrid = a.maps!.gradCam.map((m) => ({ ...m, width: S, height: S, data: upsampleMap(m, S, fovMask) }));
    for (const m of [...onGrid, ...a.maps!.guidedGradCam!]) {
      expect(m.width).toBe(S);
      expect(m.data.length).toBe(S * S);
      let max = 0;
      for (const v of m.data) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1 + 1e-6);
        max = Math.max(max, v);
      }
      expect(max).toBeGreaterThan(0);
      expect(m.data[0]).toBe(0); // top-left corner of the square is outside the retina
    }
    // per-label Grad-CAMs differ
    expect(Array.from(a.maps!.gradCam[0].data)).not.toEqual(Array.from(a.maps!.gradCam[2].data));
    // same Grad-CAM whether or not guided maps were asked for
    expect(Array.from(a.maps!.gradCam[0].data)).toEqual(Array.from(g.maps!.gradCam[0].data));
    expect(a.timingsMs.guidedBackprop).toBeGreaterThanOrEqual(0);
    expect(a.outlines.every((o) => o.label === 'ma' || o.label === 'hex')).toBe(true);
  });

  it('ungradable without force: no model run, zeros, empty outlines, summary ungradable', async () => {
    const r = await analyze(checkerboard(), model);
    expect(r.quality.gradable).toBe(false);
    expect(r.quality.reasons.length).toBeGreaterThan(0);
    expect(r.summary).toBe('ungradable');
    expect(r.forced).toBe(false);
    expect(r.outlines).toEqual([]);
    expect(Object.values(r.probabilities).every((p) => p === 0)).toBe(true);
    expect(Object.values(r.positive).every((p) => p === false)).toBe(true);
    expect(r.timingsMs.forward).toBeUndefined();
    expect(r.maps).toBeUndefined();
  });

  it('ungradable with force: full result marked forced; lesions -> dr-signs, never healthy', async () => {
    const r = await analyze(checkerboard(), model, { force: true, maps: 'gradcam' });
    expect(r.quality.gradable).toBe(false);
    expect(r.forced).toBe(true);
    expect(r.probabilities.ma).toBeGreaterThan(0);
    expect(r.positive.ma).toBe(true);
    expect(r.summary).toBe('dr-signs');
    expect(r.maps?.gradCam).toHaveLength(4);
    // with no positive lesion label, a forced ungradable photo stays 'ungradable'
    const cautious = wrapModel(
      buildCompactResNet({ inputSize: S, width: 4, blocks: [1, 1], headWidth: 8, headMid: 8, numLabels: 5, seed: 21 }),
      { ...model.metadata, labels: defaultLabels({ ma: 1, hm: 1, hex: 1, cws: 1, healthy: 0 }) },
    );
    const c = await analyze(checkerboard(), cautious, { force: true });
    expect(c.positive.healthy).toBe(true);
    expect(c.summary).toBe('ungradable');
    expect(c.outlines).toEqual([]);
    const h = await analyze(real, cautious);
    expect(h.summary).toBe('healthy');
    cautious.dispose();
  });

  it('cancellation between stages throws FundusLensError cancelled and releases every tensor', async () => {
    const before = tf.memory().numTensors;
    const signal = { aborted: false };
    const err = await analyze(real, model, {
      maps: 'all',
      signal,
      onProgress: (stage) => {
        if (stage === 'gradcam') signal.aborted = true;
      },
    }).catch((e: unknown) => e);
    // aborted inside the gradcam callback -> noticed at the next stage boundary
    expect(isFundusLensError(err) && err.code).toBe('cancelled');
    expect(tf.memory().numTensors).toBe(before);
    const early = await analyze(real, model, { signal: { aborted: true } }).catch((e: unknown) => e);
    expect(isFundusLensError(early) && early.code).toBe('cancelled');
  });

  it('bad pixels become a typed error', async () => {
    const err = await analyze({ width: 10, height: 10, channels: 3, data: new Uint8Array(7) }, model).catch((e: unknown) => e);
    expect(isFundusLensError(err)).toBe(true);
  });

  it('no tensor leak over 20 runs (mixed options)', async () => {
    const photo = syntheticFundus();
    await analyze(photo, model, { force: true, maps: 'all' }); // warm caches first
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      // guided backprop is the slow part on the cpu backend: 2 of the 20 runs use it
      const maps = i % 10 === 0 ? 'all' : i % 2 ? 'gradcam' : 'none';
      await analyze(i % 2 ? photo : real, model, { force: true, maps, outlineSource: i === 10 ? 'guided-gradcam' : 'gradcam' });
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
