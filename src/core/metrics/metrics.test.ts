import { describe, expect, it } from 'vitest';
import {
  auc,
  averagePrecision,
  aucStandardError,
  classWeights,
  cohenKappa,
  confusionAt,
  FALLBACK_THRESHOLD,
  fleissKappa,
  noisyOr,
  pointingGame,
  pointingGameBoxes,
  rocCurve,
  selectThreshold,
  spearman,
  wilsonInterval,
} from './index';
import { rng } from '../preprocess/synthetic-photos';

// Hand-worked case with ties across classes (0.8 and 0.6 each hold one positive and one
// negative) and an unknown label that would change every number if it were counted.
//   positives 0.9 0.8 0.7 0.6 | negatives 0.8 0.6 0.4 0.3 | unknown 0.95
// Pairs won by positives: 0.9 → 4; 0.8 → 3 + ½ (tie); 0.7 → 3; 0.6 → 2 + ½  ⇒ 13 / 16.
const S = [0.9, 0.8, 0.8, 0.7, 0.6, 0.6, 0.4, 0.3, 0.95];
const Y = [1, 1, 0, 1, 0, 1, 0, 0, Number.NaN];

describe('ROC and AUC', () => {
  it('AUC with ties equals the hand-computed Mann–Whitney value 13/16', () => {
    expect(auc(S, Y)).toBeCloseTo(13 / 16, 12);
  });

  it('ROC points over distinct thresholds, ties as one step', () => {
    const r = rocCurve(S, Y);
    expect(r.thresholds).toEqual([Infinity, 0.9, 0.8, 0.7, 0.6, 0.4, 0.3]);
    expect(r.tpr).toEqual([0, 0.25, 0.5, 0.75, 1, 1, 1]);
    expect(r.fpr).toEqual([0, 0, 0.25, 0.25, 0.5, 0.75, 1]);
    // trapezoidal area of the curve equals the rank statistic
    let area = 0;
    for (let i = 1; i < r.fpr.length; i++) area += ((r.fpr[i] - r.fpr[i - 1]) * (r.tpr[i] + r.tpr[i - 1])) / 2;
    expect(area).toBeCloseTo(auc(S, Y), 12);
  });

  it('AUC matches brute-force pair counting on random data with many ties', () => {
    const r = rng(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = 5 + Math.floor(r() * 60);
      const s = Array.from({ length: n }, () => Math.round(r() * 8) / 8); // coarse → ties
      const y = Array.from({ length: n }, () => (r() < 0.1 ? Number.NaN : r() < 0.4 ? 1 : 0));
      let u = 0;
      let pairs = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (y[i] === 1 && y[j] === 0) {
            pairs++;
            u += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
          }
        }
      }
      const expected = pairs === 0 ? Number.NaN : u / pairs;
      if (Number.isNaN(expected)) expect(auc(s, y)).toBeNaN();
      else expect(auc(s, y)).toBeCloseTo(expected, 12);
    }
  });

  it('perfect, inverted, constant scores and missing classes', () => {
    expect(auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(auc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0])).toBe(0);
    expect(auc([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0])).toBe(0.5);
    expect(auc([0.1, 0.2], [1, 1])).toBeNaN();
    expect(auc([0.1, 0.2], [Number.NaN, 0])).toBeNaN();
    expect(rocCurve([0.1, 0.2], [1, 1]).fpr.every(Number.isNaN)).toBe(true);
  });

  it('rejects bad labels, NaN scores and length mismatch', () => {
    expect(() => auc([0.1, 0.2], [1, 2])).toThrow(/expected 0, 1 or NaN/);
    expect(() => auc([0.1, Number.NaN], [1, 0])).toThrow(/finite/);
    expect(() => auc([0.1], [1, 0])).toThrow(/length/);
  });
});

describe('confusion and threshold selection (paper II.C)', () => {
  it('confusion counts exclude unknown labels', () => {
    const c = confusionAt(S, Y, 0.75);
    expect(c).toMatchObject({ tp: 2, fp: 1, tn: 3, fn: 2 });
    expect(c.sensitivity).toBeCloseTo(0.5);
    expect(c.specificity).toBeCloseTo(0.75);
    expect(c.accuracy).toBeCloseTo(5 / 8);
  });

  it('Youden picks the best J point; ties go to the more sensitive point; threshold sits between scores', () => {
    // J over the ROC: 0.25, 0.25, 0.5 (at 0.7), 0.5 (at 0.6), 0.25, 0 → lower of the two maxima: 0.6,
    // returned as the midpoint to the next lower score 0.4.
    const t = selectThreshold(S, Y);
    expect(t).toBeCloseTo(0.5, 12);
    const c = confusionAt(S, Y, t);
    expect(c.sensitivity).toBe(1);
    expect(c.specificity).toBe(0.5);
  });

  it('minimum-sensitivity rule takes the most specific point reaching the bound', () => {
    const t = selectThreshold(S, Y, { minSensitivity: 0.7 });
    expect(t).toBeCloseTo(0.65, 12);
    const c = confusionAt(S, Y, t);
    expect(c.sensitivity).toBe(0.75);
    expect(c.specificity).toBe(0.75);
    expect(selectThreshold(S, Y, { minSensitivity: 1 })).toBeCloseTo(0.5, 12);
    expect(() => selectThreshold(S, Y, { minSensitivity: 0 })).toThrow(RangeError);
  });

  it('separable data: the threshold separates the classes', () => {
    const t = selectThreshold([0.1, 0.3, 0.35, 0.7, 0.9], [0, 0, 0, 1, 1]);
    expect(t).toBeCloseTo(0.525, 12);
  });

  it('falls back to 0.5 when a class is absent', () => {
    expect(selectThreshold([0.2, 0.9], [1, 1])).toBe(FALLBACK_THRESHOLD);
    expect(selectThreshold([0.2, 0.9], [Number.NaN, Number.NaN])).toBe(FALLBACK_THRESHOLD);
  });
});

describe('class weights (paper III) and noisy-OR', () => {
  it('inverse-frequency weights over known cells only', () => {
    const w = classWeights([
      [1, 1],
      [0, 1],
      [0, Number.NaN],
      [0, 0],
    ]);
    // label 0: P=1, N=3, n=4 → pos 4/2, neg 4/6; label 1: P=2, N=1, n=3 → pos 3/4, neg 3/2
    expect(w.pos[0]).toBeCloseTo(2);
    expect(w.neg[0]).toBeCloseTo(2 / 3);
    expect(w.pos[1]).toBeCloseTo(0.75);
    expect(w.neg[1]).toBeCloseTo(1.5);
  });

  it('positives and negatives carry equal total weight; absent class gets weight 1', () => {
    const rows = [
      [1, 0],
      [0, 0],
      [0, 0],
      [0, 0],
      [1, 0],
    ];
    const w = classWeights(rows);
    expect(2 * w.pos[0]).toBeCloseTo(3 * w.neg[0]);
    expect(w.pos[1]).toBe(1);
    expect(w.neg[1]).toBeCloseTo(1);
    expect(() => classWeights([[1, 0], [1]])).toThrow(RangeError);
    expect(() => classWeights([[0.5]])).toThrow(/expected 0, 1 or NaN/);
  });

  it('noisy-OR', () => {
    expect(noisyOr(0, 0)).toBe(0);
    expect(noisyOr(1, 0.3)).toBe(1);
    expect(noisyOr(0.5, 0.5)).toBeCloseTo(0.75);
    expect(noisyOr(0.2, 0.3)).toBeCloseTo(0.44);
    expect(noisyOr(0.2, 0.3)).toBeGreaterThanOrEqual(Math.max(0.2, 0.3));
  });
});

describe('localization', () => {
  const W = 10;
  const H = 8;
  const mapWithPeak = (x: number, y: number) => {
    const m = new Float32Array(W * H).fill(0.1);
    m[y * W + x] = 1;
    return m;
  };

  it('pointing game: peak 3 px from the mask is a hit only with tolerance ≥ 3', () => {
    const mask = new Uint8Array(W * H);
    mask[2 * W + 4] = 1;
    const map = mapWithPeak(7, 2);
    expect(pointingGame(map, W, H, mask, 0)).toBe(false);
    expect(pointingGame(map, W, H, mask, 2.9)).toBe(false);
    expect(pointingGame(map, W, H, mask, 3)).toBe(true);
    // diagonal distance √8 ≈ 2.83
    const diag = mapWithPeak(6, 4);
    expect(pointingGame(diag, W, H, mask, 2.8)).toBe(false);
    expect(pointingGame(diag, W, H, mask, 2.9)).toBe(true);
    // exactly on the mask
    expect(pointingGame(mapWithPeak(4, 2), W, H, mask, 0)).toBe(true);
  });

  it('pointing game: an all-zero map and tied peaks outside the mask are misses', () => {
    const mask = new Uint8Array(W * H).fill(0);
    mask[0] = 1;
    expect(pointingGame(new Float32Array(W * H), W, H, mask, 100)).toBe(false);
    const tied = mapWithPeak(0, 0);
    tied[W * H - 1] = 1;
    expect(pointingGame(tied, W, H, mask, 1)).toBe(false);
    expect(() => pointingGame(new Float32Array(5), W, H, mask, 1)).toThrow(RangeError);
  });

  it('pointing game against boxes with tolerance', () => {
    const box = { x0: 2, y0: 2, x1: 4, y1: 4 };
    const map = mapWithPeak(6, 3); // centre (6.5, 3.5): 2.5 px right of the box
    expect(pointingGameBoxes(map, W, H, [box], 2.4)).toBe(false);
    expect(pointingGameBoxes(map, W, H, [box], 2.5)).toBe(true);
    expect(pointingGameBoxes(map, W, H, [{ x0: 6, y0: 3, x1: 7, y1: 4 }, box], 0)).toBe(true);
    expect(pointingGameBoxes(map, W, H, [], 10)).toBe(false);
  });

  it('average precision: hand-computed, perfect, inverted and random maps', () => {
    // thresholds 0.9, 0.8, 0.7, 0.6 add a quarter of recall each at precision 1, 2/3, 3/4, 4/6
    expect(averagePrecision(S, Y)).toBeCloseTo(0.25 * (1 + 2 / 3 + 3 / 4 + 4 / 6), 12);
    const n = 128 * 128;
    const mask = new Uint8Array(n);
    for (let y = 40; y < 60; y++) for (let x = 70; x < 90; x++) mask[y * 128 + x] = 1;
    const prevalence = 400 / n;
    const perfect = Float32Array.from(mask, (m) => m * 0.9 + 0.05);
    expect(averagePrecision(perfect, mask)).toBe(1);
    const inverted = Float32Array.from(mask, (m) => 1 - m);
    expect(averagePrecision(inverted, mask)).toBeLessThan(2 * prevalence);
    const r = rng(3);
    const random = Float32Array.from(mask, () => r());
    const ap = averagePrecision(random, mask);
    expect(ap).toBeGreaterThan(prevalence * 0.5);
    expect(ap).toBeLessThan(prevalence * 3);
    expect(averagePrecision([0.1, 0.2], [0, 0])).toBeNaN();
  });
});

describe('agreement', () => {
  it('Spearman with ties (hand-computed), monotone transforms and NaN pairs', () => {
    // ranks of b: [1, 2, 3.5, 5, 3.5] → ρ = 8 / √(10 · 9.5)
    expect(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(8 / Math.sqrt(95), 12);
    expect(spearman([1, 2, 3, 4], [1, 8, 27, 64])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(spearman([1, 2, Number.NaN, 3], [10, 20, 0, 30])).toBeCloseTo(1, 12);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
  });

  it("Cohen's kappa: Wikipedia's worked example gives 0.4", () => {
    // 50 proposals: both yes 20, A yes/B no 5, A no/B yes 10, both no 15 → p_o 0.7, p_e 0.5
    const a = [...Array(20).fill(1), ...Array(5).fill(1), ...Array(10).fill(0), ...Array(15).fill(0)];
    const b = [...Array(20).fill(1), ...Array(5).fill(0), ...Array(10).fill(1), ...Array(15).fill(0)];
    expect(cohenKappa(a, b)).toBeCloseTo(0.4, 12);
    expect(cohenKappa([1, 2, 3], [1, 2, 3])).toBe(1);
    expect(cohenKappa([1, 1], [1, 1])).toBeNaN();
  });

  it("Fleiss' kappa: Wikipedia's worked example (10 items, 14 raters, 5 categories) gives 0.210", () => {
    const table = [
      [0, 0, 0, 0, 14],
      [0, 2, 6, 4, 2],
      [0, 0, 3, 5, 6],
      [0, 3, 9, 2, 0],
      [2, 2, 8, 1, 1],
      [7, 7, 0, 0, 0],
      [3, 2, 6, 3, 0],
      [2, 5, 3, 2, 2],
      [6, 5, 2, 1, 0],
      [0, 2, 2, 3, 7],
    ];
    expect(fleissKappa(table)).toBeCloseTo(0.21, 3);
    expect(fleissKappa([[3, 0], [0, 3]])).toBeCloseTo(1, 12);
    expect(() => fleissKappa([[2, 1], [1, 1]])).toThrow(/same number/);
  });
});

describe('intervals', () => {
  it('Wilson interval: known value for 8/10 and degenerate n', () => {
    const [lo, hi] = wilsonInterval(8, 10);
    expect(lo).toBeCloseTo(0.4902, 3);
    expect(hi).toBeCloseTo(0.9433, 3);
    expect(wilsonInterval(0, 0).every(Number.isNaN)).toBe(true);
  });

  it('Hanley–McNeil SE shrinks with n and is NaN without a class', () => {
    expect(aucStandardError(0.8, 100, 100)).toBeLessThan(aucStandardError(0.8, 10, 10));
    expect(aucStandardError(0.8, 0, 10)).toBeNaN();
  });
});
