import { describe, expect, it } from 'vitest';
import { DEFAULT_PREPROCESS } from '../core/preprocess/index';
import { detectFov } from '../core/preprocess/fov';
import { assessQuality } from '../core/quality/index';
import { photoStageSteps, warmupClassMap, warmupPhoto } from './jit-warmup';
import { traceClassMap } from '../core/lesions/outlines';
import { makeTransform } from '../core/preprocess/transform';

describe('jit-warmup: the photo stages on a synthetic photo laid out like a decoded one', () => {
  it('the warm-up photo is RGBA in a Uint8ClampedArray, has a field of view, and passes the gate (the real code paths run)', () => {
    const img = warmupPhoto();
    expect(img.channels).toBe(4);
    expect(img.data).toBeInstanceOf(Uint8ClampedArray);
    const fov = detectFov(img);
    expect(fov.found).toBe(true);
    expect(Math.abs(fov.cx - img.width / 2)).toBeLessThan(5);
    expect(assessQuality(img, fov).codes).not.toContain('no-fov');
  });

  it('gives one step per stage and round, each runs without throwing; without the checks it skips the gate', () => {
    const all = photoStageSteps(DEFAULT_PREPROCESS, true, 2);
    const noChecks = photoStageSteps(DEFAULT_PREPROCESS, false, 2);
    expect(all.length).toBe(10); // FOV, gate, preprocessing, disc, outlines
    expect(noChecks.length).toBe(6); // FOV, preprocessing, outlines
    for (const step of all) step();
    for (const step of noChecks) step();
  });

  it('the outline step traces the warm-up class map into outlines on the warm-up photo (the real tracer runs)', () => {
    const img = warmupPhoto();
    const fov = detectFov(img);
    const t = makeTransform(fov, DEFAULT_PREPROCESS, img.width, img.height);
    const outlines = traceClassMap(warmupClassMap(), t, { fov });
    expect(outlines.length).toBeGreaterThanOrEqual(1);
    for (const o of outlines) for (const [x, y] of o.points) expect(Math.hypot(x - fov.cx, y - fov.cy)).toBeLessThanOrEqual(fov.radius + 2);
  });
});
