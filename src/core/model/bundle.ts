/**
 * Model bundle = a tfjs LayersModel in the format the Python `tensorflowjs_converter` writes for
 * Keras (model.json + `group1-shardNofM.bin` weight shards, optionally float16-quantised), plus
 * metadata.json (ModelMetadata: labels, thresholds, preprocessing, Grad-CAM layer, sha256 of
 * every file). A converted Keras model can be dropped in by adding a metadata.json.
 *
 * Storage is abstracted (BundleReader/BundleWriter) so the same code serves fetch in the app,
 * the file system in the CLI/training and memory in tests; core stays free of DOM/Node APIs.
 */
import * as tf from '@tensorflow/tfjs';
import { FundusLensError } from '../errors';
import type { ModelMetadata } from '../types';
import { wrapModel, type FundusModel } from './fundus-model';
import { foldBatchNormArtifacts } from './fold';
import { findNode } from './graph';
import { validateMetadata } from './metadata';
import { sha256Hex, sha256HexAsync } from './sha256';
import { utf8Decode, utf8Encode } from './utf8';

/** Reads one bundle file by its relative path; null when the file does not exist. */
export interface BundleReader {
  read(path: string): Promise<Uint8Array | null>;
}
/** Writes one bundle file by its relative path. */
export interface BundleWriter {
  write(path: string, data: Uint8Array): Promise<void>;
}

export const METADATA_FILE = 'metadata.json';
export const MODEL_FILE = 'model.json';
/** Shard size of the Python converter's default (4 MiB), so bundles look the same. */
const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024;

/** An in-memory bundle (tests; also handy to pass a bundle between threads as one Map). */
export function memoryBundle(): BundleReader & BundleWriter & { files: Map<string, Uint8Array> } {
  const files = new Map<string, Uint8Array>();
  return {
    files,
    async read(path) {
      return files.get(path) ?? null;
    },
    async write(path, data) {
      files.set(path, data);
    },
  };
}


/** float32 → IEEE half bits, round to nearest even; overflow → ±Inf, NaN kept. */
function toHalfBits(f: number, scratch: DataView): number {
  scratch.setFloat32(0, f);
  const x = scratch.getUint32(0);
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++; // may carry into the exponent: correct
  return sign | half;
}

function quantiseFloat16(specs: tf.io.WeightsManifestEntry[], data: ArrayBuffer): { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } {
  const out: Uint8Array[] = [];
  const outSpecs: tf.io.WeightsManifestEntry[] = [];
  const scratch = new DataView(new ArrayBuffer(4));
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const bytes = spec.dtype === 'float32' || spec.dtype === 'int32' ? count * 4 : spec.dtype === 'bool' ? count : NaN;
    if (!Number.isFinite(bytes) || spec.quantization) throw new Error(`cannot quantise weight ${spec.name} (${spec.dtype})`);
    if (spec.dtype === 'float32') {
      const src = new Float32Array(data, offset, count);
      const dst = new Uint16Array(count);
      for (let i = 0; i < count; i++) dst[i] = toHalfBits(src[i], scratch);
      out.push(new Uint8Array(dst.buffer));
      outSpecs.push({ ...spec, quantization: { dtype: 'float16', original_dtype: 'float32' } } as tf.io.WeightsManifestEntry);
    } else {
      out.push(new Uint8Array(data.slice(offset, offset + bytes)));
      outSpecs.push(spec);
    }
    offset += bytes;
  }
  const total = out.reduce((n, a) => n + a.length, 0);
  const joined = new Uint8Array(total);
  let p = 0;
  for (const a of out) {
    joined.set(a, p);
    p += a.length;
  }
  return { specs: outSpecs, data: joined.buffer };
}

/**
 * Saves `net` + `metadata` as a bundle: weight shards, model.json, then metadata.json (last, so
 * a half-written bundle has no metadata and fails to load cleanly). Returns the metadata written,
 * with `weightsSha256` listing every shard and model.json.
 * @param o.float16 store float32 weights as float16 (half the size; tfjs dequantises on load).
 * @param o.shardBytes shard size (default 4 MiB, as the Python converter).
 */
export async function saveBundle(
  net: tf.LayersModel,
  metadata: Omit<ModelMetadata, 'weightsSha256'>,
  writer: BundleWriter,
  o: { float16?: boolean; shardBytes?: number } = {},
): Promise<ModelMetadata> {
  // fail before writing anything: a rejected save must not leave half a bundle behind
  validateMetadata({ ...metadata, weightsSha256: {} });
  const outShape = net.outputs[0].shape;
  if (outShape[outShape.length - 1] !== metadata.labels.length) {
    throw new FundusLensError('model-label-mismatch', `The model has ${outShape[outShape.length - 1]} outputs but metadata lists ${metadata.labels.length} labels.`);
  }
  if (!findNode(net, metadata.gradCamLayer)) {
    throw new FundusLensError('model-unknown-layer', `Grad-CAM layer "${metadata.gradCamLayer}" is not a layer of the model.`);
  }
  const inShape = net.inputs[0].shape;
  if (inShape[1] !== metadata.inputSize || inShape[2] !== metadata.inputSize) {
    throw new FundusLensError('model-bad-metadata', `metadata inputSize ${metadata.inputSize} does not match the model input [${inShape.join(', ')}].`);
  }
  let artifacts: tf.io.ModelArtifacts | undefined;
  await net.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts?.weightSpecs || !artifacts.weightData) throw new Error('tfjs returned no weights for the model');
  let specs = artifacts.weightSpecs;
  let data = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
  if (o.float16) ({ specs, data } = quantiseFloat16(specs, data));

  const shardBytes = o.shardBytes ?? DEFAULT_SHARD_BYTES;
  const bytes = new Uint8Array(data);
  const nShards = Math.max(1, Math.ceil(bytes.length / shardBytes));
  const paths: string[] = [];
  const hashes: Record<string, string> = {};
  for (let i = 0; i < nShards; i++) {
    const path = `group1-shard${i + 1}of${nShards}.bin`;
    const shard = bytes.slice(i * shardBytes, Math.min(bytes.length, (i + 1) * shardBytes));
    await writer.write(path, shard);
    paths.push(path);
    hashes[path] = sha256Hex(shard);
  }
  const modelJson = {
    format: 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: 'FundusLens saveBundle',
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths, weights: specs }],
  };
  const modelBytes = utf8Encode(JSON.stringify(modelJson));
  await writer.write(MODEL_FILE, modelBytes);
  hashes[MODEL_FILE] = sha256Hex(modelBytes);
  const full = validateMetadata({ ...metadata, weightsSha256: hashes });
  await writer.write(METADATA_FILE, utf8Encode(JSON.stringify(full, null, 2)));
  return full;
}

async function readRequired(reader: BundleReader, path: string): Promise<Uint8Array> {
  const data = await reader.read(path);
  if (data == null) {
    throw new FundusLensError('model-missing-file', `The model file "${path}" is missing. Reinstall or re-download the model.`, path);
  }
  return data;
}

async function checkHash(metadata: ModelMetadata, path: string, data: Uint8Array, required: boolean): Promise<void> {
  const expected = metadata.weightsSha256[path];
  if (expected === undefined) {
    if (!required) return;
    throw new FundusLensError('model-bad-hash', `metadata.json lists no sha256 for "${path}"; the file cannot be verified.`, path);
  }
  const actual = await sha256HexAsync(data);
  if (actual !== expected) {
    throw new FundusLensError(
      'model-bad-hash',
      `The model file "${path}" is damaged or was changed (sha256 ${actual.slice(0, 12)}…, expected ${expected.slice(0, 12)}…). Re-download the model.`,
      path,
    );
  }
}

function parseJson(data: Uint8Array, path: string): unknown {
  try {
    return JSON.parse(utf8Decode(data));
  } catch (e) {
    throw new FundusLensError('model-bad-metadata', `"${path}" is not valid JSON (${(e as Error).message}).`, path);
  }
}

/** A shard's path as model.json lists it, relative to the bundle ("./x.bin" and "x.bin" alike). */
const shardPath = (raw: string): string => raw.replace(/^\.\//, '');

interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/**
 * Starts reading every file of the bundle (metadata.json, model.json, then the shards model.json lists) without
 * waiting for any, so a caller with other start-up work (the app's worker: picking and starting a backend) has
 * the bytes in flight meanwhile. Useful only with a reader that remembers what it read, or read in flight, and
 * hands it to {@link loadBundle}'s reads. Errors are ignored here: loadBundle reports them, naming the file.
 */
export function prefetchBundle(reader: BundleReader): void {
  const quiet = (p: Promise<unknown>) => void p.catch(() => undefined);
  quiet(reader.read(METADATA_FILE));
  quiet(
    reader.read(MODEL_FILE).then((bytes) => {
      if (!bytes) return;
      const mj = JSON.parse(utf8Decode(bytes)) as Partial<ModelJson>;
      for (const group of Array.isArray(mj.weightsManifest) ? mj.weightsManifest : []) {
        for (const raw of Array.isArray(group.paths) ? group.paths : []) if (typeof raw === 'string') quiet(reader.read(shardPath(raw)));
      }
    }),
  );
}

/**
 * Loads a bundle: metadata.json (schema), model.json and every weight shard (sha256 against
 * metadata; model.json too when listed), then the LayersModel, and binds them with wrapModel.
 * Every failure is a FundusLensError naming the file: 'model-missing-file', 'model-bad-hash',
 * 'model-bad-version', 'model-bad-metadata', 'model-unknown-layer', 'model-label-mismatch'.
 * Call `warmup()` on the result before the first photo.
 *
 * With `foldBatchNorm` (for inference: the app, the CLI, evaluation, the bench), every BatchNormalization that
 * follows a linear Conv2D is folded into it (model/fold.ts): the same outputs to float rounding, fewer kernels.
 * Training loads without it, since it needs the BN layers; so does any caller that copies weights by layer name.
 */
export async function loadBundle(reader: BundleReader, o: { foldBatchNorm?: boolean } = {}): Promise<FundusModel> {
  // Reads start together (a fetch reader then has them all in flight at once); errors are reported in the order of
  // the files below, so a bundle with several faults always names the same one.
  const modelRead = readRequired(reader, MODEL_FILE);
  modelRead.catch(() => undefined); // reported below, after the metadata's own errors
  const metadata = validateMetadata(parseJson(await readRequired(reader, METADATA_FILE), METADATA_FILE), METADATA_FILE);
  const modelBytes = await modelRead;
  await checkHash(metadata, MODEL_FILE, modelBytes, false);
  const mj = parseJson(modelBytes, MODEL_FILE) as Partial<ModelJson>;
  if (typeof mj !== 'object' || mj === null || typeof mj.modelTopology !== 'object' || !Array.isArray(mj.weightsManifest)) {
    throw new FundusLensError('model-bad-metadata', `"${MODEL_FILE}" is not a tfjs layers model (no modelTopology / weightsManifest).`, MODEL_FILE);
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const shards: { path: string; data: Promise<Uint8Array> }[] = [];
  for (const group of mj.weightsManifest) {
    for (const raw of group.paths) {
      const path = shardPath(raw);
      const data = readRequired(reader, path);
      data.catch(() => undefined); // awaited in order below
      shards.push({ path, data });
    }
    specs.push(...group.weights);
  }
  const buffers: ArrayBuffer[] = [];
  for (const { path, data: read } of shards) {
    const data = await read;
    await checkHash(metadata, path, data, true);
    // a view of part of a buffer is copied out; a whole fetched file is used as it is (nothing writes to it)
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
    buffers.push(whole ? (data.buffer as ArrayBuffer) : (data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer));
  }
  let artifacts: tf.io.ModelArtifacts = { modelTopology: mj.modelTopology, weightSpecs: specs, weightData: buffers };
  if (o.foldBatchNorm) {
    try {
      const folded = await foldBatchNormArtifacts(mj.modelTopology, { specs, data: buffers }, [metadata.gradCamLayer]);
      if (folded) artifacts = { modelTopology: folded.modelTopology, weightSpecs: folded.weightSpecs, weightData: folded.weightData };
    } catch {
      // An optimisation only: the unfolded load below reports whatever is wrong with the files, naming them.
    }
  }
  let net: tf.LayersModel;
  try {
    net = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    const unknown = /Unknown (?:layer|activation|initializer|regularizer|constraint)[^:]*: ?(\S+)/i.exec(msg);
    if (unknown) {
      throw new FundusLensError(
        'model-unknown-layer',
        `"${MODEL_FILE}" uses "${unknown[1].replace(/\.$/, '')}", which this app's TensorFlow.js cannot run. Re-export the model with standard layers.`,
        MODEL_FILE,
      );
    }
    throw new FundusLensError('model-bad-metadata', `"${MODEL_FILE}" could not be loaded: ${msg}`, MODEL_FILE);
  }
  try {
    return wrapModel(net, metadata);
  } catch (e) {
    net.dispose();
    throw e;
  }
}
