/**
 * The one seeded uniform generator of the training workspace (mulberry32, 32-bit state).
 * The synthetic generator and the training pipeline wrap it with their own seeding and
 * helpers; sharing the step keeps "same seed → same bytes" true for both.
 */
export class Mulberry32 {
  /** the whole state: one 32-bit word, so a checkpoint can store it */
  protected s: number;

  constructor(state: number) {
    this.s = state >>> 0;
  }

  /** uniform in [0, 1) */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** uniform in [lo, hi) */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
}
