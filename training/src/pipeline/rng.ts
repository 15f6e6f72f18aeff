/**
 * Seeded PRNG for everything random in training (shuffles, splits, augmentation).
 * Its whole state is one 32-bit integer, so a checkpoint can store it in state.json and a
 * resumed run continues the exact same random stream (fixed seeds -> repeatable runs).
 */
import { Mulberry32 } from '../random/mulberry32';

export class Rng extends Mulberry32 {
  constructor(seed: number) {
    // Mix the seed once so that seeds 1, 2, 3... start far apart.
    super((Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0) || 0x1234567);
  }

  /** integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  /** Fisher-Yates shuffle, returns a new array. */
  shuffle<T>(items: readonly T[]): T[] {
    const a = items.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** derived generator (e.g. one per epoch) that does not disturb this stream's future draws beyond one step. */
  fork(): Rng {
    return new Rng(Math.floor(this.next() * 4294967296));
  }

  get state(): number {
    return this.s;
  }

  static fromState(state: number): Rng {
    const r = new Rng(0);
    r.s = state >>> 0;
    return r;
  }
}
