/**
 * analyze() with `photoChecks`: the gate computed elsewhere (in the app, a second worker) while
 * the model runs. The result must be the one analyze() gives when it assesses the photo itself,
 * an ungradable photo must still be refused, and nothing may leak on any path.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from './analyze';
import { checkerboard, syntheticFundus, tinyModelOnCpu } from './analyze.test-fixtures';
import type { FundusModel } from './model/fundus-model';
import { photoChecks, type PhotoChecks } from './photo-checks';
import { detectFov } from './preprocess/fov';
import { assessQuality } from './quality/index';
import { detectOpticDisc } from './lesions/disc';
import { codrasPhotos, decodeFile } from '../test-utils/photos';
import type { AnalysisResult, RgbImage, StageName } from './types';


/** `value` after `ms` of real time (a worker that answers late). */
const later = <T>(value: T, ms: number): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), ms));

/** The parts of a result that do not depend on timing or on where the gate ran. */
function comparable(r: AnalysisResult) {
  const { timingsMs: _t, qualityInParallel: _p, ...rest } = r;
  return rest;
}

describe('analyze() with photoChecks (the gate beside the model)', () => {
  let model: FundusModel;
  let real: RgbImage;
  beforeAll(async () => {
    ({ model, photo: real } = await tinyModelOnCpu(() => decodeFile(codrasPhotos()[0])));
  });
  afterAll(() => model.dispose());

  it('photoChecks() runs the very functions analyze() runs', () => {
    const c = photoChecks(real);
    const fov = detectFov(real);
    expect(c.fov).toEqual(fov);
    expect(c.quality).toEqual(assessQuality(real, fov));
    expect(c.opticDisc).toEqual(detectOpticDisc(real, fov));
    expect(c.ms).toBeGreaterThan(0);
  });

  it('a gradable photo: the same result as the inline gate, whether the checks are ready, late or very late', async () => {
    const inline = await analyze(real, model, { maps: 'all' });
    expect(inline.quality.gradable).toBe(true);
    expect(inline.qualityInParallel).toBeUndefined();
    const checks = photoChecks(real);
    for (const given of [checks, Promise.resolve(checks), later(checks, 5), later(checks, 400)]) {
      const before = tf.memory().numTensors;
      const r = await analyze(real, model, { maps: 'all', photoChecks: given });
      expect(comparable(r)).toEqual(comparable(inline));
      expect(r.qualityInParallel).toBe(true);
      expect(r.timingsMs.quality).toBe(checks.ms);
      expect(r.opticDisc ?? null).toEqual(checks.opticDisc);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('the model starts before the verdict is in: forward runs while the checks are pending', async () => {
    const checks = photoChecks(real);
    let settled = false;
    const pending = later(checks, 300).then((c) => {
      settled = true;
      return c;
    });
    const seen: { stage: StageName; settled: boolean }[] = [];
    await analyze(real, model, { photoChecks: pending, onProgress: (stage) => seen.push({ stage, settled }) });
    expect(seen.find((s) => s.stage === 'forward')?.settled).toBe(false);
    expect(seen.find((s) => s.stage === 'outlines')?.settled).toBe(true);
  });

  it('an ungradable photo is refused as without the option: at once when the verdict is in, at the next stage when it comes late', async () => {
    const photo = checkerboard();
    const inline = await analyze(photo, model);
    expect(inline.summary).toBe('ungradable');
    const checks = photoChecks(photo);
    expect(checks.quality.gradable).toBe(false);

    const before = tf.memory().numTensors;
    const stagesReady: StageName[] = [];
    const ready = await analyze(photo, model, { photoChecks: checks, onProgress: (s) => stagesReady.push(s) });
    expect(comparable(ready)).toEqual(comparable(inline));
    // a verdict already in stops the analysis before any model work
    expect(stagesReady).toEqual(['quality', 'total']);
    expect(ready.timingsMs.forward).toBeUndefined();

    const lateResult = await analyze(photo, model, { maps: 'all', photoChecks: later(checks, 150) });
    expect(comparable(lateResult)).toEqual(comparable(inline)); // no probabilities, maps or outlines leak out
    expect(lateResult.maps).toBeUndefined();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a verdict that arrives during a slow read-back (a GPU stage) ends the analysis without waiting for it', async () => {
    const photo = checkerboard();
    const checks = photoChecks(photo);
    const proto = tf.Tensor.prototype as unknown as { data: (this: tf.Tensor) => Promise<unknown> };
    const original = proto.data;
    let readsDone = 0;
    // every read-back takes 300 ms of real time, as a slow GPU's would
    proto.data = async function (this: tf.Tensor) {
      await later(null, 300);
      readsDone++;
      return original.call(this);
    };
    try {
      const before = tf.memory().numTensors;
      const r = await analyze(photo, model, { photoChecks: later(checks, 30) });
      expect(readsDone).toBe(0); // the forward's read-back had not come back yet
      expect(r.summary).toBe('ungradable');
      expect(r.timingsMs.forward).toBeUndefined();
      expect(Object.values(r.probabilities).every((p) => p === 0)).toBe(true);
      expect(tf.memory().numTensors).toBe(before);
      await later(null, 400); // the abandoned read-back settles (on a disposed tensor) without an unhandled rejection
    } finally {
      proto.data = original;
    }
  });

  it('force: an ungradable photo gets the full forced result, the same as inline', async () => {
    const photo = checkerboard();
    const inline = await analyze(photo, model, { force: true, maps: 'gradcam' });
    const r = await analyze(photo, model, { force: true, maps: 'gradcam', photoChecks: later(photoChecks(photo), 50) });
    expect(r.forced).toBe(true);
    expect(comparable(r)).toEqual(comparable(inline));
  });

  it('checks that fail reject the analysis, and every tensor is released', async () => {
    const before = tf.memory().numTensors;
    const failing = new Promise<PhotoChecks>((_, reject) => setTimeout(() => reject(new Error('helper worker died')), 20));
    await expect(analyze(real, model, { maps: 'all', photoChecks: failing })).rejects.toThrow('helper worker died');
    await expect(analyze(real, model, { photoChecks: Promise.reject(new Error('at once')) })).rejects.toThrow('at once');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('checks of another photo are refused', async () => {
    const other = photoChecks(syntheticFundus());
    const before = tf.memory().numTensors;
    await expect(analyze(real, model, { photoChecks: other })).rejects.toThrow(/another photo/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
