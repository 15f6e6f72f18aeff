/**
 * Bundle export: the metadata a trained FundusLens model ships with, and
 * `npm run export -- --checkpoint <dir> --out <dir> [--float16] [--evaluation report.json] [--name n] [--version v]`.
 *
 * Every training checkpoint is already a complete bundle (model.json + shards + metadata.json),
 * so exporting is: load (hashes verified), optionally replace the evaluation with an
 * `npm run evaluate` report.json, and save again (optionally with float16 weights).
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type * as tf from '@tensorflow/tfjs';
import { DEFAULT_PREPROCESS } from '../../src/core/preprocess/index';
import { GRADCAM_LAYER_DEFAULT, defaultLabels, loadBundle, saveBundle } from '../../src/core/model/index';
import type { EvaluationSummary, LabelId, ModelMetadata, PreprocessParams } from '../../src/core/types';
import { fsBundle, readJsonIfExists } from './io';

/** Architecture parameters recorded in metadata.training.archConfig so --init/--resume can rebuild the net. */
export interface ArchConfig {
  arch: 'compact' | 'resnet50';
  width?: number;
  blocks?: number[];
  headWidth?: number;
}

export function architectureName(a: ArchConfig): string {
  return a.arch === 'resnet50'
    ? `paper ResNet50 backbone + 3-conv fully-convolutional head${a.headWidth ? ` (head ${a.headWidth})` : ''}`
    : `compact ResNet (basic blocks, width ${a.width ?? 16}, blocks [${(a.blocks ?? [1, 1, 1, 1]).join(',')}]) + 3-conv fully-convolutional head`;
}

export interface MetadataInput {
  name: string;
  version: string;
  arch: ArchConfig;
  inputSize: number;
  thresholds: Partial<Record<LabelId, number>>;
  /** human-readable names of the training data sets, e.g. "synthetic (npm run synth, seed 1)". */
  datasets: string[];
  counts: { train: number; val: number; perLabelPositives?: Record<string, number> };
  epochs: number;
  backend: string;
  wallSeconds: number;
  evaluation: EvaluationSummary[];
  /** extra fields for metadata.training (seed, schedule, loss weights, history...). */
  extra?: Record<string, unknown>;
  preprocess?: PreprocessParams;
}

/** Describes where the data came from in one phrase, for intendedUse. */
function describeData(datasets: string[]): string {
  return datasets.length ? datasets.join(' and ') : 'unspecified data';
}

/** Builds the full metadata (everything but the weight hashes, which saveBundle fills in). */
export function buildMetadata(m: MetadataInput): Omit<ModelMetadata, 'weightsSha256'> {
  const data = describeData(m.datasets);
  const synthetic = m.datasets.some((d) => /synth/i.test(d));
  return {
    schemaVersion: 1,
    name: m.name,
    version: m.version,
    architecture: architectureName(m.arch),
    labels: defaultLabels(m.thresholds),
    inputSize: m.inputSize,
    preprocess: { ...(m.preprocess ?? DEFAULT_PREPROCESS), inputSize: m.inputSize },
    gradCamLayer: GRADCAM_LAYER_DEFAULT,
    intendedUse:
      `Demonstration model trained on ${data}. It exists to demonstrate the FundusLens software (multi-label lesion ` +
      `classification with Grad-CAM explanations after Jiang et al.). It is NOT a medical device, has not been clinically ` +
      `validated, and must not be used to diagnose, screen or make any treatment decision.`,
    limitations: [
      ...(synthetic ? ['Trained (at least partly) on synthetic images: real photographs differ in ways the generator does not model.'] : []),
      `Small training set (${m.counts.train} training images, ${m.counts.val} validation images); expect poor generalisation to other cameras, populations and image quality.`,
      'Per-label thresholds were selected on the validation split and the reported validation metrics use the same split, so they are optimistic.',
      'Microaneurysms are 2–3 px at the 512² input; at smaller inputs they are mostly invisible and the BP/MA output is unreliable.',
      'Ungradable photos (blur, exposure, no retina) must be rejected by the quality gate before analysis; outputs on them are meaningless.',
      'Lesion outlines come from Grad-CAM maps of a classifier, not from a segmentation model: they show where the evidence is, not exact lesion borders.',
    ],
    training: {
      summary: `${m.epochs} epoch(s) on ${data} (${m.counts.train} train / ${m.counts.val} val images), backend ${m.backend}, wall time ${Math.round(m.wallSeconds)} s.`,
      datasets: m.datasets,
      date: new Date().toISOString().slice(0, 10),
      counts: m.counts,
      epochs: m.epochs,
      backend: m.backend,
      wallSeconds: Math.round(m.wallSeconds),
      archConfig: m.arch,
      ...(m.extra ?? {}),
    },
    evaluation: m.evaluation,
    createdAt: new Date().toISOString(),
  };
}

/** Strips the hashes so a metadata object can be passed to saveBundle again. */
export function withoutHashes(meta: ModelMetadata): Omit<ModelMetadata, 'weightsSha256'> {
  const { weightsSha256: _drop, ...rest } = meta;
  return rest;
}

/**
 * Saves `net` as a bundle in `dir` (model.json, weight shards, metadata.json).
 * @returns the written metadata (with weight hashes).
 */
export async function writeBundle(net: tf.LayersModel, meta: Omit<ModelMetadata, 'weightsSha256'>, dir: string, o: { float16?: boolean } = {}): Promise<ModelMetadata> {
  return saveBundle(net, meta, fsBundle(dir), { float16: !!o.float16 });
}

export interface ExportOptions {
  float16?: boolean;
  /** replaces metadata.evaluation (e.g. the report.json of `npm run evaluate`). */
  evaluation?: EvaluationSummary[];
  name?: string;
  version?: string;
}

/** Loads a checkpoint/bundle (verifying hashes), applies the overrides and writes a bundle to `outDir`. */
export async function exportCheckpoint(checkpointDir: string, outDir: string, o: ExportOptions = {}): Promise<ModelMetadata> {
  const model = await loadBundle(fsBundle(checkpointDir));
  try {
    const meta = withoutHashes(model.metadata);
    if (o.evaluation) meta.evaluation = o.evaluation;
    if (o.name) meta.name = o.name;
    if (o.version) meta.version = o.version;
    meta.createdAt = new Date().toISOString();
    if (o.float16) meta.training = { ...meta.training, weights: 'float16' };
    return await writeBundle(model.net, meta, outDir, { float16: o.float16 });
  } finally {
    model.dispose();
  }
}

/** Accepts evaluate's report.json: an EvaluationSummary, an array of them, or { evaluation: [...] }. */
export function evaluationFromReport(json: unknown): EvaluationSummary[] {
  const j = json as Record<string, unknown>;
  if (Array.isArray(json)) return json as EvaluationSummary[];
  if (j && Array.isArray(j.evaluation)) return j.evaluation as EvaluationSummary[];
  if (j && typeof j.dataset === 'string' && j.perLabel) return [j as unknown as EvaluationSummary];
  if (j && j.summary && typeof (j.summary as Record<string, unknown>).dataset === 'string') return [j.summary as EvaluationSummary];
  throw new Error('the --evaluation file is not an EvaluationSummary (expected { dataset, description, perLabel })');
}

/** Resolves a CLI path against the directory npm was started from (npm -w runs scripts in training/). */
export function cliPath(p: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), p);
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      checkpoint: { type: 'string' },
      out: { type: 'string' },
      float16: { type: 'boolean', default: false },
      evaluation: { type: 'string' },
      name: { type: 'string' },
      version: { type: 'string' },
      backend: { type: 'string' },
    },
  });
  if (!values.checkpoint || !values.out) {
    process.stderr.write('usage: npm run export -- --checkpoint <bundle dir> --out <dir> [--float16] [--evaluation report.json] [--name n] [--version v]\n');
    process.exit(2);
  }
  const { pickBackend } = await import('./backend');
  await pickBackend(values.backend);
  let evaluation: EvaluationSummary[] | undefined;
  if (values.evaluation) {
    const json = await readJsonIfExists<unknown>(cliPath(values.evaluation));
    if (json === null) throw new Error(`--evaluation ${values.evaluation}: file not found`);
    evaluation = evaluationFromReport(json);
  }
  const meta = await exportCheckpoint(cliPath(values.checkpoint), cliPath(values.out), {
    float16: values.float16,
    evaluation,
    name: values.name,
    version: values.version,
  });
  process.stdout.write(`exported ${meta.name} ${meta.version} -> ${cliPath(values.out)} (${Object.keys(meta.weightsSha256).length} files hashed${values.float16 ? ', float16' : ''})\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`export failed: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
