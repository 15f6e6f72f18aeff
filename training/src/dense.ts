/**
 * Lesion-mask deep supervision (training only; GoogLeNet-style auxiliary classifier).
 *
 * An image-level label gives one bit per photo. Where the data has per-lesion masks (synthetic
 * data, IDRiD segmentation), an auxiliary 1×1 convolution on the Grad-CAM layer's output A
 * (16×16×C at 512²) predicts, per feature cell, which of the 4 lesion labels is present there:
 * 256 labelled cells per image instead of 1 label, and it teaches the backbone lesion-specific
 * features at the layer Grad-CAM (paper eq. 1–2) reads. The paper's head (convs → GAP → logits)
 * and its image-level loss are untouched; the aux conv is NOT part of the exported model.
 *
 * Targets: masks are carried from photo pixels to model pixels through the SAME PhotoTransform
 * the preprocessing produces (maskToModel of the evaluation report), pooled by "any" to a
 * reduced cache size R (64² at 512²), cached on disk next to the image cache, augmented with the
 * SAME geometric parameters as the image (exact at R: shifts and rotations scale with the side),
 * then max-pooled to the feature grid G (a cell is positive if any lesion pixel falls in it).
 *
 * Known/unknown per item and label: a mask file → known; no mask file but the image label is 0
 * → known, all cells negative (no lesion of that kind anywhere); otherwise (NaN label, or a
 * positive label without a mask) → unknown, contributes nothing (zero gradient).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { detectFov, makeTransform } from '../../src/core/preprocess/index';
import { LESION_LABEL_IDS, type LesionLabelId, type PhotoTransform, type PreprocessParams } from '../../src/core/types';
import { transformRow, type AugmentParams } from './augment';
import { decodeImage, decodeMask } from './pipeline/decode';
import { Progress } from './pipeline/progress';
import { Rng } from './pipeline/rng';
import { maskToModel, maskTransform } from './report/localization';

/** Labels with a dense output, in this channel order. */
export const DENSE_LABELS: readonly LesionLabelId[] = LESION_LABEL_IDS;
const K = DENSE_LABELS.length;

/** Default cap of the positive-cell weight (inverse cell frequency). */
export const DENSE_POS_CAP = 20;

/** One item's lesion masks on the reduced grid R×R, channel-interleaved [R, R, 4], 0/1. */
export interface MaskGrid {
  size: number;
  data: Uint8Array;
  /** per DENSE_LABELS channel: does this item supervise it? */
  known: boolean[];
}

/**
 * The cache side R for model input S: S / 2^j for the largest j ≤ 5 that keeps R ≥ 64 and
 * S divisible by 2^j. Networks of stride 32 give a grid G = S/32, so R is always a multiple of G.
 */
export function maskCacheSize(S: number): number {
  let R = S;
  for (let j = 0; j < 5; j++) {
    if (R % 2 !== 0 || R / 2 < 64) break;
    R /= 2;
  }
  return R;
}

/** "Any" pooling of a binary S×S mask to R×R (S divisible by R). */
export function poolAny(mask: ArrayLike<number>, S: number, R: number): Uint8Array {
  if (S % R !== 0) throw new RangeError(`poolAny: ${S} is not a multiple of ${R}`);
  const k = S / R;
  const out = new Uint8Array(R * R);
  for (let y = 0; y < S; y++) {
    const row = y * S;
    const orow = Math.floor(y / k) * R;
    for (let x = 0; x < S; x++) if (mask[row + x]) out[orow + Math.floor(x / k)] = 1;
  }
  return out;
}

/** Which channels an item supervises (see the file comment). */
export function knownChannels(masks: Partial<Record<LesionLabelId, string>>, labels: Partial<Record<string, number>>): boolean[] {
  return DENSE_LABELS.map((l) => !!masks[l] || labels[l] === 0);
}

/**
 * Builds one item's MaskGrid from photo-size masks and the photo's PhotoTransform (the one
 * preprocessing produced): maskToModel at S, then "any"-pooling to R.
 */
export function buildMaskGrid(
  masks: Partial<Record<LesionLabelId, { width: number; height: number; data: ArrayLike<number> }>>,
  known: boolean[],
  t: PhotoTransform,
  R: number,
): MaskGrid {
  const S = t.inputSize;
  const data = new Uint8Array(R * R * K);
  DENSE_LABELS.forEach((l, c) => {
    const m = masks[l];
    if (!m || !known[c]) return;
    const pooled = poolAny(maskToModel(m.data, m.width, m.height, maskTransform(t, m.width, m.height)), S, R);
    for (let i = 0; i < R * R; i++) data[i * K + c] = pooled[i];
  });
  return { size: R, data, known: [...known] };
}

export interface MaskItem {
  image: string;
  stem: string;
  masks: Partial<Record<LesionLabelId, string>>;
  labels: Partial<Record<string, number>>;
}

export interface MaskCacheOptions {
  params: PreprocessParams;
  /** directory for <stem>-<key>.m<R> files (the image cache's); null = memory only. */
  diskDir?: string | null;
  /** must equal the image cache's decode cap (default 4 × inputSize) so the FOV/transform match. */
  maxDecodeSide?: number;
  progressLabel?: string | null;
}

async function statKey(file: string): Promise<[string, number, number]> {
  const st = await fs.stat(file);
  return [path.resolve(file), st.size, Math.floor(st.mtimeMs)];
}

/**
 * Mask grids for every item (null = the item supervises no channel: no decode, no file).
 * The photo is decoded with the image cache's cap and its FOV detected exactly as preprocess()
 * does, so the masks land on the same model pixels as the cached image. Cached on disk as
 * R·R·4 mask bytes + 4 known-flag bytes; a failure leaves the item null (image loss only).
 */
export async function loadMaskGrids(items: MaskItem[], o: MaskCacheOptions): Promise<{ grids: (MaskGrid | null)[]; computed: number; fromDisk: number; failed: { stem: string; error: string }[] }> {
  const S = o.params.inputSize;
  const R = maskCacheSize(S);
  const maxSide = o.maxDecodeSide ?? 4 * S;
  const grids: (MaskGrid | null)[] = new Array(items.length).fill(null);
  const failed: { stem: string; error: string }[] = [];
  let computed = 0;
  let fromDisk = 0;
  if (o.diskDir) await fs.mkdir(o.diskDir, { recursive: true });
  const prog = o.progressLabel ? new Progress(o.progressLabel, items.length) : null;
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    const known = knownChannels(it.masks, it.labels);
    if (!known.some(Boolean)) {
      prog?.tick(1);
      continue;
    }
    try {
      let file: string | null = null;
      if (o.diskDir) {
        const h = createHash('sha256');
        const files = await Promise.all([it.image, ...DENSE_LABELS.map((l) => it.masks[l]).filter((m): m is string => !!m)].map(statKey));
        h.update(JSON.stringify({ v: 1, files, known, params: o.params, maxSide, R }));
        file = path.join(o.diskDir, `${it.stem.replace(/[^A-Za-z0-9_.-]/g, '_')}-${h.digest('hex').slice(0, 16)}.m${R}`);
        const buf = await fs.readFile(file).catch(() => null);
        if (buf && buf.byteLength === R * R * K + K) {
          const u8 = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
          grids[i] = { size: R, data: u8.subarray(0, R * R * K), known: Array.from(u8.subarray(R * R * K), (v) => v === 1) };
          fromDisk++;
          prog?.tick(1);
          continue;
        }
      }
      const img = await decodeImage(it.image, maxSide);
      const t = makeTransform(detectFov(img), o.params, img.width, img.height);
      const masks: Partial<Record<LesionLabelId, { width: number; height: number; data: Uint8Array }>> = {};
      for (const l of DENSE_LABELS) if (it.masks[l]) masks[l] = await decodeMask(it.masks[l]!);
      const g = buildMaskGrid(masks, known, t, R);
      grids[i] = g;
      computed++;
      if (file) {
        const out = new Uint8Array(R * R * K + K);
        out.set(g.data, 0);
        out.set(g.known.map((k) => (k ? 1 : 0)), R * R * K);
        const tmp = `${file}.tmp-${process.pid}`;
        await fs.writeFile(tmp, out);
        await fs.rename(tmp, file);
      }
    } catch (e) {
      failed.push({ stem: it.stem, error: (e as Error).message });
    }
    prog?.tick(1);
  }
  return { grids, computed, fromDisk, failed };
}

/**
 * A batch of mask grids as tensors: masks [b, R, R, 4] float 0/1 and known [b, 4] 0/1 (an
 * item without a grid is all-unknown). Caller disposes.
 */
export function maskBatch(grids: (MaskGrid | null)[], R: number): { masks: tf.Tensor4D; known: tf.Tensor2D } {
  const b = grids.length;
  const buf = new Uint8Array(b * R * R * K);
  const kn = new Float32Array(b * K);
  grids.forEach((g, i) => {
    if (!g) return;
    if (g.size !== R) throw new RangeError(`mask grid of side ${g.size}, expected ${R}`);
    buf.set(g.data, i * R * R * K);
    g.known.forEach((k, c) => (kn[i * K + c] = k ? 1 : 0));
  });
  return tf.tidy(() => ({ masks: tf.cast(tf.tensor4d(buf, [b, R, R, K], 'int32'), 'float32') as tf.Tensor4D, known: tf.tensor2d(kn, [b, K]) }));
}

/**
 * Applies the image's geometric augmentation (rotation, shift, flip, mirror — photometric
 * parameters do not move pixels) to masks at side R of an image at side S. transformRow's
 * centre (S−1)/2 maps exactly onto (R−1)/2 and shifts scale by R/S, so this is the same map.
 * Bilinear sampling + threshold 0.25: a single lesion pixel spreads weights summing to 1 over
 * at most 4 output pixels, so the largest is ≥ 0.25 and no lesion is lost (nearest could drop it).
 */
export function augmentMasks(masks: tf.Tensor4D, params: AugmentParams[], S: number): tf.Tensor4D {
  const [b, R] = masks.shape;
  if (params.length !== b) throw new Error(`augmentMasks: ${params.length} parameter sets for a batch of ${b}`);
  const k = R / S;
  return tf.tidy(() => {
    const rows = params.map((p) => transformRow({ ...p, shiftX: p.shiftX * k, shiftY: p.shiftY * k }, R, R));
    const warped = tf.image.transform(masks, tf.tensor2d(rows, [b, 8]), 'bilinear', 'constant', 0);
    return tf.cast(tf.greaterEqual(warped, 0.25), 'float32') as tf.Tensor4D;
  });
}

/** Max-pools masks [b, R, R, 4] onto the feature grid G×G (R must be a multiple of G). */
export function toFeatureGrid(masks: tf.Tensor4D, G: number): tf.Tensor4D {
  const R = masks.shape[1];
  if (R % G !== 0) throw new RangeError(`mask side ${R} is not a multiple of the feature grid ${G}`);
  const k = R / G;
  return k === 1 ? tf.clone(masks) : tf.maxPool(masks, k, k, 'valid');
}

/**
 * Positive-cell weights per channel: (negative cells / positive cells) over the known cells of
 * the training set on the G grid, clipped to [1, cap]; 1 for a channel without any positive.
 */
export function densePosWeights(grids: (MaskGrid | null)[], G: number, cap = DENSE_POS_CAP): number[] {
  const pos = new Array(K).fill(0);
  const all = new Array(K).fill(0);
  for (const g of grids) {
    if (!g) continue;
    const R = g.size;
    const k = R / G;
    for (let c = 0; c < K; c++) {
      if (!g.known[c]) continue;
      for (let gy = 0; gy < G; gy++) {
        for (let gx = 0; gx < G; gx++) {
          let any = 0;
          for (let y = gy * k; y < (gy + 1) * k && !any; y++) for (let x = gx * k; x < (gx + 1) * k; x++) if (g.data[(y * R + x) * K + c]) { any = 1; break; }
          pos[c] += any;
          all[c]++;
        }
      }
    }
  }
  return pos.map((p, c) => (p > 0 ? Math.min(cap, Math.max(1, (all[c] - p) / p)) : 1));
}

/** The auxiliary classifier: a 1×1 conv C → 4. Training-only; never exported. */
export interface DenseHead {
  kernel: tf.Variable; // [1, 1, C, 4]
  bias: tf.Variable; // [4]
}

/** Glorot-uniform kernel (seeded), zero bias. */
export function createDenseHead(channels: number, seed: number): DenseHead {
  const rng = new Rng(seed ^ 0xde75e);
  const lim = Math.sqrt(6 / (channels + K));
  const w = Float32Array.from({ length: channels * K }, () => rng.uniform(-lim, lim));
  // unique names: tfjs refuses a second variable of the same name while the first is alive
  const tag = `${seed}_${Date.now()}_${Math.floor(rng.next() * 1e9)}`;
  // tidy: the initial values would otherwise stay registered next to the variables
  return tf.tidy(() => ({
    kernel: tf.variable(tf.tensor4d(w, [1, 1, channels, K]), true, `dense_aux_kernel_${tag}`),
    bias: tf.variable(tf.zeros([K]), true, `dense_aux_bias_${tag}`),
  }));
}

export function disposeDenseHead(h: DenseHead | null): void {
  if (!h) return;
  h.kernel.dispose();
  h.bias.dispose();
}

/** Plain-JSON form for the checkpoint (aux.json): --resume continues with the same aux conv. */
export interface DenseHeadJson {
  shape: number[];
  kernel: number[];
  bias: number[];
}

export function denseHeadToJson(h: DenseHead): DenseHeadJson {
  return { shape: h.kernel.shape, kernel: Array.from(h.kernel.dataSync()), bias: Array.from(h.bias.dataSync()) };
}

/** Writes saved values into `h`; false (h unchanged) when the shapes do not match. */
export function loadDenseHeadJson(h: DenseHead, j: DenseHeadJson): boolean {
  if (JSON.stringify(j.shape) !== JSON.stringify(h.kernel.shape) || j.bias.length !== K) return false;
  tf.tidy(() => {
    h.kernel.assign(tf.tensor4d(j.kernel, h.kernel.shape as [number, number, number, number]));
    h.bias.assign(tf.tensor1d(j.bias));
  });
  return true;
}

/**
 * The dense loss: mean over KNOWN cells of the BCE between the aux logits on `features`
 * [b, G, G, C] and `targets` [b, G, G, 4], positives weighted by `posWeight`. Channels an item
 * does not supervise (known 0) contribute nothing to the sum, the count or the gradient.
 */
export function denseLoss(features: tf.Tensor4D, head: DenseHead, targets: tf.Tensor4D, known: tf.Tensor2D, posWeight: number[]): tf.Scalar {
  return tf.tidy(() => cellLoss(tf.add(tf.conv2d(features, head.kernel as tf.Tensor4D, 1, 'valid'), head.bias) as tf.Tensor4D, targets, known, posWeight));
}

/**
 * Supervision of the paper head's OWN per-label maps (the last head conv, before global average
 * pooling; `--dense-on head`), instead of an aux conv on the features.
 *
 * Why: with the aux conv, the backbone learns where lesions are but the exported head is free to
 * answer "is this photo diseased?" for every lesion label (0.2.0's ma output ranked ma-negative
 * photos with haemorrhages or exudates above healthy ones: AUC 0.70/0.75 vs 1.00). Supervising each
 * label's map cell by cell makes that label's map high only where its lesion is, so the logit
 * (the map's mean) counts that lesion, and Grad-CAM (eq. 1–2) reads a map that is about it.
 *
 * Only a per-label monotone calibration z = e^{scale_c}·map_c + bias_c (training-only, 2 numbers
 * per label) sits between the map and the cell BCE: the image loss needs the map's MEAN to be
 * positive on positive photos while most cells are lesion-free, and the free offset reconciles
 * the two without letting labels mix (a 1×1 conv would let the ma cell logit be "ma − hm").
 * `cal.kernel` holds the 4 log-scales, `cal.bias` the 4 offsets; maps [b, G, G, ≥4], channels in
 * DENSE_LABELS order first.
 */
export function denseLossOnMaps(maps: tf.Tensor4D, cal: DenseHead, targets: tf.Tensor4D, known: tf.Tensor2D, posWeight: number[]): tf.Scalar {
  return tf.tidy(() => {
    const [b, G, G2, L] = maps.shape;
    if (L < K) throw new RangeError(`denseLossOnMaps: the maps have ${L} channels, need the ${K} lesion labels first`);
    const lesion = L === K ? maps : tf.slice(maps, [0, 0, 0, 0], [b, G, G2, K]);
    const z = tf.add(tf.mul(lesion, tf.exp(cal.kernel)), cal.bias) as tf.Tensor4D;
    return cellLoss(z, targets, known, posWeight);
  });
}

let calibrations = 0;

/** Calibration variables for {@link denseLossOnMaps}: log-scale 0 (scale 1) and offset 0 per label. */
export function createMapCalibration(seed: number): DenseHead {
  // tfjs refuses a second live variable of the same name: a per-process counter keeps them apart
  const tag = `${seed}_${++calibrations}`;
  return tf.tidy(() => ({
    kernel: tf.variable(tf.zeros([K]), true, `dense_cal_scale_${tag}`),
    bias: tf.variable(tf.zeros([K]), true, `dense_cal_bias_${tag}`),
  }));
}

function cellLoss(z: tf.Tensor4D, targets: tf.Tensor4D, known: tf.Tensor2D, posWeight: number[]): tf.Scalar {
  return tf.tidy(() => {
    const [b, G, G2] = z.shape;
    if (targets.shape[1] !== G || targets.shape[2] !== G2) throw new RangeError(`dense targets ${targets.shape.join('×')} do not match features ${z.shape.join('×')}`);
    const wPos = tf.tensor1d(posWeight);
    const cell = tf.add(tf.mul(tf.mul(targets, wPos), tf.softplus(tf.neg(z))), tf.mul(tf.sub(1, targets), tf.softplus(z)));
    const kn = tf.reshape(known, [b, 1, 1, K]);
    const total = tf.sum(tf.mul(cell, kn));
    const count = tf.mul(tf.sum(known), G * G2);
    return tf.div(total, tf.maximum(count, 1)) as tf.Scalar;
  });
}
