import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { computeLossWeights, log1mExpNeg, logNoisyOr, trainingLoss, type LossWeights } from './loss';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const softplus = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));

describe('computeLossWeights', () => {
  it('is inversely proportional to each label frequency over known cells only', () => {
    // label 0: 1 pos, 2 neg (one unknown) ; label 1: 3 pos, 1 neg ; label 2: only negatives
    const m = [
      [1, 1, 0],
      [0, 1, 0],
      [0, 1, 0],
      [NaN, 0, 0],
    ];
    const w = computeLossWeights(m);
    expect(w.pos[0]).toBeCloseTo(3 / 2, 10);
    expect(w.neg[0]).toBeCloseTo(3 / 4, 10);
    expect(w.pos[1]).toBeCloseTo(4 / 6, 10);
    expect(w.neg[1]).toBeCloseTo(4 / 2, 10);
    // rarer class gets the larger weight
    expect(w.pos[0]).toBeGreaterThan(w.neg[0]);
    expect(w.neg[1]).toBeGreaterThan(w.pos[1]);
    // one class absent: nothing to balance
    expect(w.pos[2]).toBe(1);
    expect(w.neg[2]).toBe(1);
    expect(w.redPos).toBeUndefined();
  });

  it('adds red weights only when a red column has known cells', () => {
    const m = [[NaN], [NaN], [0], [NaN]];
    expect(computeLossWeights(m, [NaN, NaN, NaN, NaN]).redPos).toBeUndefined();
    const w = computeLossWeights(m, [1, 1, 0, 1]);
    expect(w.redPos).toBeCloseTo(4 / 6, 10);
    expect(w.redNeg).toBeCloseTo(4 / 2, 10);
  });
});

describe('trainingLoss (masked, class-weighted BCE on logits)', () => {
  const w: LossWeights = { pos: [2, 0.5], neg: [0.5, 3] };

  it('equals the hand-computed mean over known cells', () => {
    const z = [
      [0.3, -1.2],
      [2.0, 0.7],
    ];
    const y = [
      [1, NaN],
      [0, 1],
    ];
    const loss = tf.tidy(() => trainingLoss(tf.tensor2d(z), tf.tensor2d(y), null, w).dataSync()[0]);
    const expected = (2 * softplus(-0.3) + 0.5 * softplus(2.0) + 0.5 * softplus(-0.7)) / 3;
    expect(loss).toBeCloseTo(expected, 5);
  });

  it('gives exactly zero gradient to outputs whose label is unknown (NaN)', () => {
    const y = tf.tensor2d([
      [1, NaN],
      [NaN, 0],
    ]);
    const z = tf.tensor2d([
      [0.3, -1.2],
      [2.0, 0.7],
    ]);
    const g = tf.grad((zz: tf.Tensor) => trainingLoss(zz as tf.Tensor2D, y, null, w))(z);
    const gv = Array.from(g.dataSync());
    expect(gv[1]).toBe(0);
    expect(gv[2]).toBe(0);
    expect(Math.abs(gv[0])).toBeGreaterThan(1e-3);
    expect(Math.abs(gv[3])).toBeGreaterThan(1e-3);
    expect(gv.every(Number.isFinite)).toBe(true);
    tf.dispose([y, z, g]);
  });

  it('is 0 (not NaN) when every label is unknown', () => {
    const v = tf.tidy(() => trainingLoss(tf.tensor2d([[1, 2]]), tf.tensor2d([[NaN, NaN]]), null, w).dataSync()[0]);
    expect(v).toBe(0);
  });

  it('stays finite and accurate for extreme logits', () => {
    const v = tf.tidy(() => trainingLoss(tf.tensor2d([[80, -80]]), tf.tensor2d([[0, 1]]), null, w).dataSync()[0]);
    expect(v).toBeCloseTo((0.5 * 80 + 0.5 * 80) / 2, 3);
  });

  it('does not leak tensors', () => {
    const before = tf.memory().numTensors;
    const z = tf.tensor2d([[0.1, 0.2, 0.3]]);
    const y = tf.tensor2d([[1, 0, NaN]]);
    const r = tf.tensor1d([1]);
    const l = trainingLoss(z, y, r, { pos: [1, 1, 1], neg: [1, 1, 1], redPos: 1, redNeg: 1 }, { maIndex: 0, hmIndex: 1 });
    l.dispose();
    tf.dispose([z, y, r]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('noisy-OR red loss', () => {
  // float64 reference: P(red) = 1 − (1 − σ(a))(1 − σ(b))
  const pRed = (a: number, b: number) => {
    const s = softplus(a) + softplus(b); // −log((1−pa)(1−pb))
    return -Math.expm1(-s);
  };

  it('log1mExpNeg matches log(1 − e^−s) over 12 decades', () => {
    const s = [1e-9, 1e-6, 1e-4, 0.009, 0.011, 0.1, 0.7, 2, 10, 40];
    const got = tf.tidy(() => Array.from(log1mExpNeg(tf.tensor1d(s)).dataSync()));
    s.forEach((v, i) => {
      const ref = Math.log(-Math.expm1(-v));
      expect(Math.abs(got[i] - ref)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref)));
    });
  });

  it('logNoisyOr gives log P(red) and log(1 − P(red)) of the noisy-OR, even for very negative logits', () => {
    const cases: [number, number][] = [
      [0, 0],
      [2, -3],
      [-8, -9],
      [-20, -25],
      [15, 15],
    ];
    for (const [a, b] of cases) {
      const [lp, l1p] = tf.tidy(() => {
        const r = logNoisyOr(tf.scalar(a), tf.scalar(b));
        return [r.logP.dataSync()[0], r.log1mP.dataSync()[0]];
      });
      const ref = pRed(a, b);
      expect(Math.abs(lp - Math.log(ref))).toBeLessThan(1e-4 * Math.max(1, Math.abs(Math.log(ref))));
      expect(l1p).toBeCloseTo(-(softplus(a) + softplus(b)), 4);
    }
  });

  it('red=1 with unknown ma/hm trains both outputs through P(red); red=0 pushes both down', () => {
    const weights: LossWeights = { pos: [1, 1], neg: [1, 1], redPos: 2, redNeg: 0.5 };
    const labels = tf.tensor2d([
      [NaN, NaN],
      [NaN, NaN],
    ]);
    const red = tf.tensor1d([1, 0]);
    const z = tf.tensor2d([
      [-20, -25],
      [1.5, -0.5],
    ]);
    const loss = tf.tidy(() => trainingLoss(z, labels, red, weights).dataSync()[0]);
    const expected = (2 * -Math.log(pRed(-20, -25)) + 0.5 * (softplus(1.5) + softplus(-0.5))) / 2;
    expect(loss).toBeCloseTo(expected, 3);
    const g = tf.grad((zz: tf.Tensor) => trainingLoss(zz as tf.Tensor2D, labels, red, weights))(z);
    const gv = Array.from(g.dataSync());
    expect(gv.every(Number.isFinite)).toBe(true);
    expect(gv[0]).toBeLessThan(0); // red present: raise both logits
    expect(gv[1]).toBeLessThan(0);
    expect(gv[2]).toBeGreaterThan(0); // red absent: lower both
    expect(gv[3]).toBeGreaterThan(0);
    tf.dispose([labels, red, z, g]);
  });

  it('red is not counted again when ma and hm are both known', () => {
    const weights: LossWeights = { pos: [1, 1], neg: [1, 1], redPos: 5, redNeg: 5 };
    const z = [[0.2, -0.4]];
    const without = tf.tidy(() => trainingLoss(tf.tensor2d(z), tf.tensor2d([[0, 0]]), null, weights).dataSync()[0]);
    const withRed = tf.tidy(() => trainingLoss(tf.tensor2d(z), tf.tensor2d([[0, 0]]), tf.tensor1d([0]), weights).dataSync()[0]);
    expect(withRed).toBeCloseTo(without, 6);
    // ...but it is when one of them is unknown
    const partial = tf.tidy(() => trainingLoss(tf.tensor2d(z), tf.tensor2d([[0, NaN]]), tf.tensor1d([0]), weights).dataSync()[0]);
    expect(partial).toBeCloseTo((softplus(0.2) + 5 * (softplus(0.2) + softplus(-0.4))) / 2, 4);
  });
});

describe('log1mExpNeg gradient', () => {
  it('matches 1/(e^s − 1) on both sides of the series cut', () => {
    const s = [1e-6, 0.005, 0.02, 1, 30];
    const g = tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => tf.sum(log1mExpNeg(x)))(tf.tensor1d(s)).dataSync()));
    s.forEach((v, i) => {
      const ref = 1 / Math.expm1(v);
      expect(Math.abs(g[i] - ref)).toBeLessThan(1e-4 * Math.max(1, ref));
    });
  });
});
