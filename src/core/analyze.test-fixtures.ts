/**
 * Fixtures shared by the analyze() and CLI tests (not shipped code: nothing imports this
 * outside *.test.ts). A tiny random compact net and a synthetic photo keep the tests fast.
 */
import * as tf from '@tensorflow/tfjs';
import { buildCompactResNet } from './model/builders';
import { wrapModel, type FundusModel } from './model/fundus-model';
import { defaultLabels } from './model/labels';
import { makeMetadata } from './model/metadata';
import type { ModelMetadata, RgbImage } from './types';

export const TINY_SIZE = 64;
const S = TINY_SIZE;

/** The tiny net + metadata, unwrapped (the CLI test saves it as a bundle). */
export function tinyNet(): { net: tf.LayersModel; metadata: ModelMetadata } {
  const net = buildCompactResNet({ inputSize: S, width: 4, blocks: [1, 1], headWidth: 8, headMid: 8, numLabels: 5, seed: 21 });
  const labels = defaultLabels({ ma: 0, hm: 1, hex: 0, cws: 1, healthy: 1 });
  const metadata = makeMetadata({
    inputSize: S,
    name: 'tiny',
    version: '1.2.3',
    architecture: 'compact ResNet w4 [1,1], random weights (tests)',
    labels,
    preprocess: { inputSize: S, clahe: { channel: 'lab-l', tileGrid: 4, clipLimit: 2 }, fovMargin: 0.02 },
  });
  return { net, metadata };
}

/** Tiny random compact net; thresholds force ma + hex positive (0) and the rest negative (1: a sigmoid of a small random logit never reaches it). */
export function tinyModel(): FundusModel {
  const { net, metadata } = tinyNet();
  return wrapModel(net, metadata);
}

/**
 * The tiny model on the cpu backend plus the photo a suite runs it on, for one beforeAll.
 * The test passes the loader because reading real photos needs Node (sharp, fs), which this
 * file may not import: it sits in src/core and is type-checked as core.
 */
export async function tinyModelOnCpu<P>(loadPhoto: () => Promise<P>): Promise<{ model: FundusModel; photo: P }> {
  await tf.setBackend('cpu');
  const photo = await loadPhoto();
  return { model: tinyModel(), photo };
}

/** A synthetic "fundus": black frame, orange-red disc with a brighter optic disc and some texture. */
export function syntheticFundus(w = 200, h = 150): RgbImage {
  const data = new Uint8Array(w * h * 3);
  const cx = w / 2, cy = h / 2, r = Math.min(w, h) * 0.46;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      if (d > r) continue;
      const od = Math.hypot(x - cx - r * 0.45, y - cy) < r * 0.15;
      const t = 0.85 + 0.15 * Math.sin(x * 0.7) * Math.cos(y * 0.5);
      const i = (y * w + x) * 3;
      data[i] = Math.round((od ? 250 : 200) * t);
      data[i + 1] = Math.round((od ? 200 : 90) * t);
      data[i + 2] = Math.round((od ? 120 : 40) * t);
    }
  return { width: w, height: h, channels: 3, data };
}


/** Not a fundus photo at all: a grey checkerboard with no dark border (the gate refuses it). */
export function checkerboard(w = 120, h = 90): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.fill(((x >> 3) + (y >> 3)) % 2 ? 200 : 90, (y * w + x) * 3, (y * w + x) * 3 + 3);
  return { width: w, height: h, channels: 3, data };
}
