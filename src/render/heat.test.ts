import { describe, expect, it } from 'vitest';
import type { AnalysisResult, LabelMap } from '../core/types';
import { heatValues } from './heat';

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
  it('guided and combined use their own maps', () => {
    expect([...heatValues(res({ hex: true }), 'guided', all)!.values]).toEqual([0, 0.25, 0, 0]);
    expect([...heatValues(res({ hex: true }), 'combined', all)!.values]).toEqual([0, 1, 0, 0]);
  });
});
