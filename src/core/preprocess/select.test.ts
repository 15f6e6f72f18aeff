import { describe, expect, it } from 'vitest';
import { kthSmallest } from './select';
import { rng } from './synthetic-photos';

describe('kthSmallest', () => {
  it('returns exactly what an ascending sort puts at k, with many duplicates, sorted/reversed input and every k of small arrays', () => {
    const rand = rng(7);
    for (const n of [1, 2, 3, 5, 17, 1000, 20001]) {
      for (const [kind, Arr] of ['random', 'duplicates', 'sorted', 'reversed', 'constant'].flatMap((k) => [[k, Float32Array], [k, Float64Array]] as const)) {
        const v = new Arr(n);
        for (let i = 0; i < n; i++) {
          v[i] = kind === 'random' ? rand() * 100 - 50 : kind === 'duplicates' ? Math.floor(rand() * 4) : kind === 'sorted' ? i : kind === 'reversed' ? n - i : 3.5;
        }
        const copy = v.slice();
        const sorted = v.slice().sort();
        const ks = n <= 17 ? [...Array(n).keys()] : [0, 1, Math.floor(n / 2), Math.round(0.02 * (n - 1)), Math.round(0.98 * (n - 1)), n - 1];
        for (const k of ks) expect(kthSmallest(v, k), `${kind} ${Arr.name} n=${n} k=${k}`).toBe(sorted[k]);
        expect(v).toEqual(copy); // not modified unless asked
        const k = n >> 1;
        expect(kthSmallest(v, k, n, true)).toBe(sorted[k]); // in place: the same element, the array permuted
        expect(v.slice().sort()).toEqual(sorted);
      }
    }
    expect(kthSmallest(new Float32Array([5, 1, 3, 9]), 1, 3)).toBe(3); // only the first n values
    expect(() => kthSmallest(new Float32Array(3), 3)).toThrow(RangeError);
  });

  it('long f32 arrays (the radix step): the sorted element at every probed rank, across signs, ±0, ties, one narrow bucket and n past the array', () => {
    const rand = rng(11);
    const n = 70001;
    const cases: Record<string, (i: number) => number> = {
      'signed, wide range': () => (rand() - 0.5) * 10 ** (rand() * 12 - 6),
      'noise residuals (ties)': () => Math.abs(Math.round((rand() - 0.5) * 40) / 6),
      '±0 and ±1 only': (i) => [0, -0, 1, -1][i % 4],
      'one bucket (same top 16 bits)': () => 1 + rand() * 2 ** -8,
      'all negative': () => -rand() * 100,
    };
    for (const [kind, f] of Object.entries(cases)) {
      const v = Float32Array.from({ length: n + 5 }, (_, i) => f(i));
      const copy = v.slice();
      const sorted = v.slice(0, n).sort();
      for (const k of [0, 1, 17, n >> 2, n >> 1, n - 2, n - 1]) expect(kthSmallest(v, k, n), `${kind} k=${k}`).toBe(sorted[k]);
      expect(kthSmallest(v, n >> 1, n, true), kind).toBe(sorted[n >> 1]);
      expect(v).toEqual(copy);
    }
    // a view that starts inside its buffer
    const base = Float32Array.from({ length: 40000 }, () => rand());
    const view = base.subarray(3);
    expect(kthSmallest(view, 20000)).toBe(view.slice().sort()[20000]);
  });
});
