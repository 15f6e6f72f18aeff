/**
 * Agreement statistics: Spearman rank correlation (map similarity, e.g. the Adebayo et al.
 * 2018 randomisation sanity check) and Cohen's / Fleiss' kappa (inter-rater agreement for
 * the annotation study).
 */

/** Mid-ranks (1-based, ties get the mean of their positions). */
export function midRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && values[idx[j]] === values[idx[i]]) j++;
    const r = (i + 1 + j) / 2; // mean of positions i+1 .. j
    for (let k = i; k < j; k++) ranks[idx[k]] = r;
    i = j;
  }
  return ranks;
}

/**
 * Spearman's rank correlation ρ: Pearson correlation of the mid-ranks (correct with ties).
 * Pairs where either value is NaN are dropped. NaN when fewer than two pairs remain or a
 * side is constant (no ranking to correlate).
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Number.isNaN(a[i]) && !Number.isNaN(b[i])) n++;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isNaN(a[i]) && !Number.isNaN(b[i])) {
      x[k] = a[i];
      y[k] = b[i];
      k++;
    }
  }
  if (n < 2) return Number.NaN;
  return pearson(midRanks(x), midRanks(y));
}

/** Pearson correlation; NaN when a side has zero variance. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return Number.NaN;
  return sxy / Math.sqrt(sxx * syy);
}

/**
 * Cohen's kappa for two raters who each put every item into a category (any numbers as
 * category codes): κ = (p_o − p_e) / (1 − p_e). NaN when chance agreement is total
 * (p_e = 1: both raters used one and the same category; κ is undefined there).
 */
export function cohenKappa(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new RangeError(`raters rated different numbers of items: ${a.length} vs ${b.length}`);
  const n = a.length;
  if (n === 0) return Number.NaN;
  const ca = new Map<number, number>();
  const cb = new Map<number, number>();
  let agree = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) agree++;
    ca.set(a[i], (ca.get(a[i]) ?? 0) + 1);
    cb.set(b[i], (cb.get(b[i]) ?? 0) + 1);
  }
  const po = agree / n;
  let pe = 0;
  for (const [cat, na] of ca) pe += (na / n) * ((cb.get(cat) ?? 0) / n);
  if (pe === 1) return Number.NaN;
  return (po - pe) / (1 - pe);
}

/**
 * Fleiss' kappa (Fleiss 1971) for many raters: `ratings[i][j]` = how many raters put item i
 * into category j; every item must have the same number of ratings m ≥ 2.
 *   P_i = (Σ_j n_ij² − m) / (m(m − 1)),  P̄ = mean P_i,  p_j = Σ_i n_ij / (N m),
 *   P̄_e = Σ_j p_j²,  κ = (P̄ − P̄_e) / (1 − P̄_e).
 * NaN when P̄_e = 1 (everyone always used one category).
 */
export function fleissKappa(ratings: readonly (readonly number[])[]): number {
  const N = ratings.length;
  if (N === 0) return Number.NaN;
  const k = ratings[0].length;
  const m = ratings[0].reduce((s, v) => s + v, 0);
  if (m < 2) throw new RangeError('Fleiss kappa needs at least two ratings per item');
  const colSums = new Array<number>(k).fill(0);
  let sumP = 0;
  for (let i = 0; i < N; i++) {
    const row = ratings[i];
    if (row.length !== k) throw new RangeError(`item ${i} has ${row.length} categories, expected ${k}`);
    let s = 0;
    let s2 = 0;
    for (let j = 0; j < k; j++) {
      const v = row[j];
      if (!(Number.isInteger(v) && v >= 0)) throw new RangeError(`ratings[${i}][${j}] = ${v} is not a count`);
      s += v;
      s2 += v * v;
      colSums[j] += v;
    }
    if (s !== m) throw new RangeError(`item ${i} has ${s} ratings, item 0 has ${m}; Fleiss kappa needs the same number for every item`);
    sumP += (s2 - m) / (m * (m - 1));
  }
  const pBar = sumP / N;
  let pe = 0;
  for (let j = 0; j < k; j++) {
    const pj = colSums[j] / (N * m);
    pe += pj * pj;
  }
  if (pe === 1) return Number.NaN;
  return (pBar - pe) / (1 - pe);
}
