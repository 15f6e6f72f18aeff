/**
 * Seeded randomness for the synthetic generator. Never Math.random: the same seed must
 * give the same bytes on every machine, so every draw goes through one of these.
 */
import { Mulberry32 } from '../random/mulberry32';

/** Mix two 32-bit integers into a well-spread seed (one image's stream from (dataset seed, index)). */
export function hashSeed(a: number, b: number): number {
  let h = (Math.imul(a | 0, 0x9e3779b1) ^ Math.imul((b | 0) + 0x7f4a7c15, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32 (shared with the training pipeline) with helpers for the distributions the generator needs. */
export class Rng extends Mulberry32 {
  private spare: number | null = null;
  /** raw 32-bit state word, e.g. to seed a child stream */
  u32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }
  int(a: number, bInclusive: number): number {
    return a + Math.floor(this.next() * (bInclusive - a + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  /** standard normal (Box-Muller, spare kept) */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = this.next();
    if (u < 1e-12) u = 1e-12;
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  /** log-normal given its median and the log-space sigma */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }
  /** a child generator whose stream does not depend on how many draws the parent makes later */
  fork(): Rng {
    return new Rng(hashSeed(this.u32(), 0x5eed));
  }
}

/**
 * Log-normal sigma from two quantiles (p50 and p90), as measured in lesion-stats.md:
 * ln(p90/p50) = 1.2816·sigma.
 */
export function sigmaFromP90(p50: number, p90: number): number {
  return Math.log(p90 / p50) / 1.2816;
}

/** A table of standard normals for per-pixel noise: a Box-Muller per pixel would dominate the run time. */
let normalTable: Float32Array | null = null;
export function gaussianTable(): Float32Array {
  if (normalTable) return normalTable;
  const r = new Rng(0x6a09e667);
  const t = new Float32Array(1 << 16);
  for (let i = 0; i < t.length; i++) t[i] = r.normal();
  normalTable = t;
  return t;
}
