/**
 * Sanity checks for saliency maps (Adebayo et al., NeurIPS 2018): an explanation that does
 * not change when the trained weights are replaced by random ones explains the architecture,
 * not the model. We train a tiny compact ResNet on a toy two-label task (yellow square /
 * blue square present), then re-randomise (a) the head and (b) the backbone and compare maps
 * with Spearman's rank correlation. Runs on wasm with core/backends' gradient kernels.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCompactResNet } from '../model/builders';
import { setupBackend } from '../backends/index';
import { spearman as spearmanOrNaN } from '../metrics/agreement';

/** A randomised model often gives an all-zero Grad-CAM (ReLU of eq. 2 clips everything): rank correlation is undefined there; it shares no structure with the trained map, so count it as 0. */
const spearman = (a: number[], b: number[]): number => {
  const r = spearmanOrNaN(a, b);
  return Number.isNaN(r) ? 0 : r;
};
import { buildPrefix, buildTail } from '../model/graph';
import { gradCam } from './grad-cam';
import { guidedBackprop, guidedSaliency } from './guided-backprop';
import { logitTargets } from './targets';

const S = 64;
const SQ = 10;

/** Deterministic toy data: reddish noisy background, label 0 = yellow square, label 1 = blue square. */
function toyData(n: number, seed: number) {
  let s = seed >>> 0;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const x = new Float32Array(n * S * S * 3);
  const y = new Float32Array(n * 2);
  const boxes: ([number, number] | null)[][] = [];
  for (let k = 0; k < n; k++) {
    const base = k * S * S * 3;
    for (let p = 0; p < S * S; p++) {
      x[base + p * 3] = 0.35 + 0.1 * rnd();
      x[base + p * 3 + 1] = 0.12 + 0.05 * rnd();
      x[base + p * 3 + 2] = 0.05 + 0.05 * rnd();
    }
    const placed: ([number, number] | null)[] = [null, null];
    for (let c = 0; c < 2; c++) {
      if (rnd() < 0.5) continue;
      let bx = 0, by = 0;
      for (let tries = 0; tries < 20; tries++) {
        bx = Math.floor(rnd() * (S - SQ));
        by = Math.floor(rnd() * (S - SQ));
        const other = placed[1 - c];
        if (!other || Math.abs(other[0] - bx) > SQ + 2 || Math.abs(other[1] - by) > SQ + 2) break;
      }
      placed[c] = [bx, by];
      y[k * 2 + c] = 1;
      const col = c === 0 ? [0.95, 0.9, 0.2] : [0.15, 0.3, 0.95];
      for (let j = by; j < by + SQ; j++) for (let i = bx; i < bx + SQ; i++) for (let ch = 0; ch < 3; ch++) x[base + (j * S + i) * 3 + ch] = col[ch];
    }
    boxes.push(placed);
  }
  return { x: tf.tensor4d(x, [n, S, S, 3]), y: tf.tensor2d(y, [n, 2]), boxes };
}

const makeNet = () => buildCompactResNet({ inputSize: S, numLabels: 2, width: 8, blocks: [1, 1], headWidth: 16, headMid: 16, seed: 11 });

describe('Adebayo sanity check on a trained tiny model', () => {
  let trained: tf.LayersModel;
  let accuracy = 0;

  beforeAll(async () => {
    // wasm + our gradient kernels: training on the cpu backend is ~75x slower (4 s per step).
    expect(await setupBackend(['wasm'])).toBe('wasm');
    trained = makeNet();
    const train = toyData(96, 1);
    const opt = tf.train.adam(0.01);
    for (let step = 0; step < 40; step++) {
      const lo = (step * 16) % 96;
      tf.tidy(() => {
        const xb = train.x.slice([lo, 0, 0, 0], [16, -1, -1, -1]);
        const yb = train.y.slice([lo, 0], [16, -1]);
        opt.minimize(() => tf.losses.sigmoidCrossEntropy(yb, trained.apply(xb, { training: true }) as tf.Tensor) as tf.Scalar);
      });
    }
    tf.dispose([train.x, train.y]);
    opt.dispose();
    const test = toyData(32, 99);
    const pred = tf.tidy(() => tf.greater(trained.apply(test.x, { training: false }) as tf.Tensor, 0).cast('float32'));
    accuracy = tf.tidy(() => tf.mean(tf.equal(pred, test.y)).dataSync()[0]);
    tf.dispose([pred, test.x, test.y]);
  });

  /** Copy of the trained weights with the chosen layers re-drawn from N(0, 0.1²·...) (He-like scale). */
  function randomised(part: 'head' | 'backbone'): tf.LayersModel {
    const net = makeNet();
    net.setWeights(trained.getWeights());
    const headStart = net.layers.findIndex((l) => l.name === 'gradcam_features');
    net.layers.forEach((layer, i) => {
      const inHead = i > headStart;
      if ((part === 'head') !== inHead || layer.getClassName() !== 'Conv2D') return;
      layer.setWeights(layer.getWeights().map((w, k) => {
        const fanIn = w.shape.slice(0, -1).reduce((a, b) => a * b, 1);
        return tf.randomNormal(w.shape, 0, Math.sqrt(2 / fanIn), 'float32', 100 + i * 10 + k);
      }));
    });
    return net;
  }

  async function maps(net: tf.LayersModel, x: tf.Tensor4D) {
    const split = { features: buildPrefix(net, 'gradcam_features', 'f'), head: buildTail(net, 'gradcam_features', 'h') };
    const { cams, peaks, logits } = gradCam(split, x, logitTargets([0, 1]));
    const g = guidedBackprop(net, x, logitTargets([0, 1]));
    const sal = guidedSaliency(g);
    const out = { cam: (await cams.array()) as number[][][], gb: (await sal.array()) as number[][][] };
    tf.dispose([cams, peaks, logits, g, sal]);
    return out;
  }

  it('trains, localises, and Grad-CAM changes when weights are re-randomised (guided backprop much less so)', async () => {
    expect(accuracy).toBeGreaterThan(0.8);
    const test = toyData(12, 7);
    const rHead = randomised('head');
    const rBack = randomised('backbone');
    const before = tf.memory().numTensors;
    const corr = { camHead: [] as number[], camBack: [] as number[], gbHead: [] as number[], gbBack: [] as number[] };
    let hits = 0, shown = 0;
    for (let k = 0; k < 12; k++) {
      const x = tf.tidy(() => test.x.slice([k, 0, 0, 0], [1, -1, -1, -1])) as tf.Tensor4D;
      const [t, h, b] = [await maps(trained, x), await maps(rHead, x), await maps(rBack, x)];
      x.dispose();
      for (let c = 0; c < 2; c++) {
        const box = test.boxes[k][c];
        if (!box) continue;
        // pointing game on the trained model: the Grad-CAM peak falls on (or next to) the square
        let best = -1, bi = 0, bj = 0;
        t.cam[c].forEach((row, j) => row.forEach((v, i) => { if (v > best) { best = v; bi = i; bj = j; } }));
        shown++;
        if (bi >= box[0] - 4 && bi < box[0] + SQ + 4 && bj >= box[1] - 4 && bj < box[1] + SQ + 4) hits++;
        corr.camHead.push(spearman(t.cam[c].flat(), h.cam[c].flat()));
        corr.camBack.push(spearman(t.cam[c].flat(), b.cam[c].flat()));
        corr.gbHead.push(spearman(t.gb[c].flat(), h.gb[c].flat()));
        corr.gbBack.push(spearman(t.gb[c].flat(), b.gb[c].flat()));
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const summary = {
      accuracy,
      pointingGame: hits / shown,
      spearman: {
        gradCamHeadRandomised: mean(corr.camHead),
        gradCamBackboneRandomised: mean(corr.camBack),
        guidedBackpropHeadRandomised: mean(corr.gbHead),
        guidedBackpropBackboneRandomised: mean(corr.gbBack),
      },
    };
    console.log('[sanity check]', JSON.stringify(summary));
    expect(shown).toBeGreaterThan(4);
    expect(summary.pointingGame).toBeGreaterThanOrEqual(0.7);
    // Stated bound: re-randomising either part leaves at most a weak rank correlation.
    expect(summary.spearman.gradCamHeadRandomised).toBeLessThan(0.5);
    expect(summary.spearman.gradCamBackboneRandomised).toBeLessThan(0.5);
    // Adebayo et al.: guided backprop is much less sensitive to the head's weights than Grad-CAM.
    expect(summary.spearman.guidedBackpropHeadRandomised).toBeGreaterThan(summary.spearman.gradCamHeadRandomised);
    tf.dispose([test.x, test.y]);
    rHead.dispose();
    rBack.dispose();
  });
});
