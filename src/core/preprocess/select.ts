/**
 * Order statistics without a full sort: the k-th smallest value (quickselect, Hoare
 * partition). It returns exactly the element an ascending sort would put at index k, in O(n)
 * instead of O(n log n); FOV detection, the quality gate and the optic-disc detector each
 * needed a sort of 30k–200k values per photo only to read one or two of them.
 */
import { scratchSlot } from '../scratch';

// the copy that is partitioned (scratch.ts: reused, never escapes)
const COPY = scratchSlot();

/**
 * The value at index `k` of the ascending sort of `values[0..n)`. `values` is not modified
 * (a copy is partitioned) unless `inPlace` is set. Values must not be NaN.
 */
export function kthSmallest(values: Float32Array | Float64Array, k: number, n = values.length, inPlace = false): number {
  if (n <= 0) return 0;
  if (k < 0 || k >= n) throw new RangeError(`kthSmallest: k = ${k} outside 0..${n - 1}`);
  let a = values;
  if (!inPlace) {
    a = values instanceof Float64Array ? COPY.f64(n) : COPY.f32(n);
    a.set(values.subarray(0, n));
  }
  let lo = 0, hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i]; a[i] = a[j]; a[j] = t;
        i++; j--;
      }
    }
    // now a[lo..j] ≤ pivot ≤ a[i..hi] and everything strictly between j and i equals pivot
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}
