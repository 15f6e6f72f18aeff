import { describe, expect, it } from 'vitest';
import { fovMaskOnGrid, upsampleMap } from '../core/lesions/geometry';
import type { AnalysisResult, FieldOfView, LabelMap } from '../core/types';
import { dilate3, heatValues, stretchForDisplay } from './heat';

const S = 2;
const map = (label: LabelMap['label'], v: number[]): LabelMap => ({ label, width: S, height: S, data: new Float32Array(v) });
const all = { ma: true, hm: true, hex: true, cws: true };

function res(positive: Partial<Record<string, boolean>>): AnalysisResult {
  return {
    positive: { ma: false, hm: false, hex: false, cws: false, healthy: false, ...positive },
    transform: { inputSize: S, photoWidth: 2, photoHeight: 2, scale: 1, offsetX: 0, offsetY: 0 },
    maps: {
      gradCam: [map('ma', [1, 0, 0, 0]), map('hex', [0, 0.5, 0, 0.2]), map('cws', [0, 0, 0.9, 0.1])],
      guidedGradCam: [map('hex', [0, 0.25, 0, 0])],
      combined: new Float32Array([0, 1, 0, 0]),
    },
  } as unknown as AnalysisResult;
}

describe('heat map composition', () => {
  it('takes the per-pixel max over positive, visible labels only', () => {
    expect([...heatValues(res({ hex: true, cws: true }), 'gradcam', all)!.values]).toEqual([0, 0.5, expect.closeTo(0.9), expect.closeTo(0.2)]);
    expect([...heatValues(res({ hex: true, cws: true }), 'gradcam', { ...all, cws: false })!.values]).toEqual([0, 0.5, 0, expect.closeTo(0.2)]);
  });
  it('falls back to all visible labels when none is positive; none/absent maps give null', () => {
    expect([...heatValues(res({}), 'gradcam', all)!.values]).toEqual([1, 0.5, expect.closeTo(0.9), expect.closeTo(0.2)]);
    expect(heatValues(res({}), 'none', all)).toBeNull();
    expect(heatValues(res({}), 'gradcam', { ma: false, hm: false, hex: false, cws: false })).toBeNull();
    expect(heatValues(undefined, 'gradcam', all)).toBeNull();
    expect(heatValues({ ...res({}), maps: undefined }, 'combined', all)).toBeNull();
  });
  it('guided and combined use their own maps, stretched and widened for display (Grad-CAM is drawn as is)', () => {
    // 2×2: the single positive guided value saturates, and one pixel of widening covers the grid
    expect([...heatValues(res({ hex: true }), 'guided', all)!.values]).toEqual([1, 1, 1, 1]);
    expect([...heatValues(res({ hex: true }), 'combined', all)!.values]).toEqual([1, 1, 1, 1]);
    // 5×5: a faint dot (0.02 of the map's scale) in the middle becomes a visible 3×3 patch; nothing else lights up
    const N = 5;
    const dot = new Float32Array(N * N);
    dot[12] = 0.02;
    const r = { ...res({ ma: true }), transform: { ...res({}).transform, inputSize: N } } as AnalysisResult;
    r.maps = { gradCam: [{ label: 'ma', width: N, height: N, data: dot }], guidedGradCam: [{ label: 'ma', width: N, height: N, data: dot }], combined: dot };
    const g = heatValues(r, 'guided', all)!.values;
    const lit = [...g.keys()].filter((i) => g[i] > 0);
    expect(lit).toEqual([6, 7, 8, 11, 12, 13, 16, 17, 18]);
    expect(g[12]).toBe(1);
    expect([...heatValues(r, 'gradcam', all)!.values]).toEqual([...dot]);
  });
});

describe('class maps on their coarse grid (what analyze() returns)', () => {
  it('are upsampled to the model grid and masked by the field of view before the max is taken', () => {
    const N = 8;
    // a photo that fills the square, with a FOV circle of radius 3 model pixels in its middle
    const transform = { inputSize: N, photoWidth: N, photoHeight: N, scale: 1, offsetX: 0, offsetY: 0 };
    const fov: FieldOfView = { cx: 4, cy: 4, radius: 3, found: true, bbox: [1, 1, 7, 7], circleVisibleFraction: 1, coverage: 0.44 };
    const coarse = (label: LabelMap['label'], v: number[]): LabelMap => ({ label, width: 2, height: 2, data: new Float32Array(v) });
    const ma = coarse('ma', [1, 0, 0, 0.5]);
    const hex = coarse('hex', [0, 1, 0.2, 0]);
    const r = { ...res({ ma: true, hex: true }), transform, fov, maps: { gradCam: [ma, hex] } } as unknown as AnalysisResult;
    const got = heatValues(r, 'gradcam', all)!;
    expect(got.size).toBe(N);
    const mask = fovMaskOnGrid(fov, transform, N);
    const a = upsampleMap(ma, N, mask), b = upsampleMap(hex, N, mask);
    expect([...got.values]).toEqual([...a].map((v, i) => Math.max(v, b[i])));
    expect(got.values[0]).toBe(0); // the corner is outside the FOV, though the coarse 'ma' cell there is 1
    expect(Math.max(...got.values)).toBeGreaterThan(0.5);
    // a coarse map is never taken for a guided view (those are pixel-level, at model size)
    expect(heatValues({ ...r, maps: { gradCam: [], guidedGradCam: [ma] } } as AnalysisResult, 'guided', all)).toBeNull();
  });
});

describe('display stretch for pixel-level maps', () => {
  it('divides by the 99.9th percentile of the positive values and clips, so one hot pixel no longer hides the rest', () => {
    // 10 000 positive values: 9 990 at 0.01 and 10 hot pixels at 1; the 99.9th percentile is the last 0.01 value
    const v = new Float32Array(10_010);
    v.fill(0.01, 0, 9_990);
    v.fill(1, 9_990, 10_000);
    const s = stretchForDisplay(v);
    expect(s[0]).toBeGreaterThan(0.9); // was 0.01: invisible under the colour map's floor
    expect(s[0]).toBeLessThanOrEqual(1);
    expect(s[9_995]).toBe(1);
    expect(s[10_005]).toBe(0); // zeros stay zero
    // a map whose evidence is spread evenly keeps its shape (linear below the scale)
    const ramp = Float32Array.from({ length: 1000 }, (_, i) => (i + 1) / 1000);
    const sr = stretchForDisplay(ramp);
    expect(sr[499] / sr[249]).toBeCloseTo(2, 2);
    expect(stretchForDisplay(new Float32Array(4))).toEqual(new Float32Array(4));
  });

  it('dilate3 widens by one pixel, clipped at the edges', () => {
    const corner = new Float32Array(9);
    corner[0] = 0.5;
    expect([...dilate3(corner, 3)]).toEqual([0.5, 0.5, 0, 0.5, 0.5, 0, 0, 0, 0]);
  });
});
