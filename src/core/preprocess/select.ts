/**
 * Order statistics without a full sort: the k-th smallest value. It returns exactly the element
 * an ascending sort would put at index k, in O(n) instead of O(n log n); FOV detection, the
 * quality gate and the optic-disc detector each needed a sort of 30k–200k values per photo only
 * to read one or two of them.
 *
 * Long f32 arrays take a radix step first: a float's bits, with the sign handled, order like the
 * float, so one pass counts values by their top 16 bits, the bucket that holds rank k is known,
 * and only that bucket (typically under 1 % of the values) is copied out and partitioned. On the
 * quality gate's 174k noise residuals (many near-ties, where the partition loops do the most
 * work) quickselect alone took ~4 ms here; the two passes take well under 1 ms. Shorter or f64
 * arrays go straight to quickselect (Hoare partition).
 */
import { scratchSlot } from '../scratch';

// the copy that is partitioned, the radix step's counts and the bucket it keeps (scratch.ts: reused, never escape)
const COPY = scratchSlot(), HIST = scratchSlot(), BUCKET = scratchSlot();
/** Below this many values the radix step's fixed cost (a 65536-bin count) is not worth it. */
const RADIX_MIN = 16384;

/** The float's bits as an unsigned key in the float's order (negatives flipped, positives' sign bit set), top 16 bits. */
function bucketOf(bits: number): number {
  return (bits ^ ((bits >> 31) | 0x80000000)) >>> 16;
}

/** kthSmallest for a long f32 array: count by bucket, then select within k's bucket. */
function radixKth(values: Float32Array, k: number, n: number): number {
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  const h = HIST.i32(65536).fill(0);
  for (let i = 0; i < n; i++) h[bucketOf(bits[i])]++;
  let below = 0, b = 0;
  while (below + h[b] <= k) below += h[b++];
  const bucket = BUCKET.f32(h[b]);
  let m = 0;
  for (let i = 0; i < n; i++) if (bucketOf(bits[i]) === b) bucket[m++] = values[i];
  return quickselect(bucket, k - below, m);
}

/**
 * The value at index `k` of the ascending sort of `values[0..n)`. `values` is not modified
 * (a copy is partitioned) unless `inPlace` is set. Values must not be NaN.
 */
export function kthSmallest(values: Float32Array | Float64Array, k: number, n = values.length, inPlace = false): number {
  if (n <= 0) return 0;
  if (k < 0 || k >= n) throw new RangeError(`kthSmallest: k = ${k} outside 0..${n - 1}`);
  if (n >= RADIX_MIN && values instanceof Float32Array) return radixKth(values, k, n);
  let a = values;
  if (!inPlace) {
    a = values instanceof Float64Array ? COPY.f64(n) : COPY.f32(n);
    a.set(values.subarray(0, n));
  }
  return quickselect(a, k, n);
}

/** The k-th smallest of a[0..n), partitioning `a` in place. */
function quickselect(a: Float32Array | Float64Array, k: number, n: number): number {
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
