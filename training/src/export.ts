/**
 * Bundle export: the metadata a trained FundusLens model ships with, and
 * `npm run export -- --checkpoint <dir> --out <dir> [--float16] [--evaluation <report.json|dir>]…
 *   [--metadata-patch patch.json] [--name n] [--version v]`.
 *
 * Every training checkpoint is already a complete bundle (model.json + shards + metadata.json),
 * so exporting is: load (hashes verified), optionally replace the evaluation with one or more
 * `npm run evaluate` reports, apply a reviewed metadata patch (model-card text), and save again
 * (optionally with float16 weights). When an evaluation is given as its output folder, its
 * report.md and SVG charts travel with the bundle, so the model card can show them offline.
 */
import { promises as fs } from 'node:fs';
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
  /** reviewed model-card text etc., see {@link applyMetadataPatch} */
  metadataPatch?: Record<string, unknown>;
  /** absolute checkout path to strip from every metadata string (training options hold absolute paths) */
  root?: string;
}

/** Loads a checkpoint/bundle (verifying hashes), applies the overrides and writes a bundle to `outDir`. */
export async function exportCheckpoint(checkpointDir: string, outDir: string, o: ExportOptions = {}): Promise<ModelMetadata> {
  const model = await loadBundle(fsBundle(checkpointDir));
  try {
    let meta = withoutHashes(model.metadata);
    if (o.evaluation) meta.evaluation = o.evaluation;
    if (o.metadataPatch) meta = applyMetadataPatch(meta, o.metadataPatch);
    if (o.root) meta = relativisePaths(meta, o.root);
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

/**
 * Applies a metadata patch: top-level fields are replaced, except `training`, whose fields are merged
 * (so a patch can reword `training.summary` without restating the history). `limitations` may be
 * given as `{ "append": [...] }` to keep the generated ones.
 */
export function applyMetadataPatch<T extends Omit<ModelMetadata, 'weightsSha256'>>(meta: T, patch: Record<string, unknown>): T {
  const out = { ...meta } as Record<string, unknown>;
  for (const [k, v] of Object.entries(patch)) {
    if (k === 'weightsSha256' || k === 'schemaVersion') throw new Error(`metadata patch may not set ${k}`);
    if (k === 'training' && v && typeof v === 'object') out.training = { ...(meta.training ?? {}), ...(v as object) };
    else if (k === 'limitations' && v && typeof v === 'object' && !Array.isArray(v) && Array.isArray((v as { append?: unknown }).append)) {
      out.limitations = [...(meta.limitations ?? []), ...((v as { append: string[] }).append)];
    } else out[k] = v;
  }
  return out as T;
}

/**
 * Replaces an absolute checkout path (e.g. /home/me/funduslens) with "." and its parent with ".."
 * (../shared/data lives beside the checkout) in every string of a JSON value.
 */
export function relativisePaths<T>(value: T, root: string): T {
  if (!root || root === '/') return value;
  const trimmed = root.replace(/\/+$/, '');
  const parent = path.dirname(trimmed);
  const fixOne = (v: string, dir: string, rel: string): string => v.split(`${dir}/`).join(`${rel}/`).split(dir).join(rel);
  const fix = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const r = fixOne(v, trimmed, '.');
      return parent === '/' ? r : fixOne(r, parent, '..');
    }
    if (Array.isArray(v)) return v.map(fix);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fix(x)]));
    return v;
  };
  return fix(value) as T;
}

/** An evaluation given on the command line: the report, and its folder when report.md/SVGs sit beside it. */
interface EvaluationSource {
  evaluation: EvaluationSummary[];
  dir: string;
}

async function readEvaluationSource(arg: string): Promise<EvaluationSource> {
  const p = cliPath(arg);
  const stat = await fs.stat(p).catch(() => null);
  if (!stat) throw new Error(`--evaluation ${arg}: file not found`);
  const file = stat.isDirectory() ? path.join(p, 'report.json') : p;
  const json = await readJsonIfExists<unknown>(file);
  if (json === null) throw new Error(`--evaluation ${arg}: ${file} not found`);
  return { evaluation: evaluationFromReport(json), dir: path.dirname(file) };
}

/**
 * Copies the evaluations' charts next to the bundle and writes one report.md. The first evaluation's
 * SVGs keep their names (the model card shows roc-<label>.svg); the others get an `eval<i>-` prefix
 * and their links are rewritten.
 */
export async function writeReportAssets(outDir: string, sources: readonly { dir: string; title: string }[], heading: string, root: string): Promise<void> {
  const parts = [`# ${heading}\n`];
  for (let i = 0; i < sources.length; i++) {
    const { dir, title } = sources[i];
    const prefix = i === 0 ? '' : `eval${i + 1}-`;
    const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.svg'));
    for (const f of files) await fs.copyFile(path.join(dir, f), path.join(outDir, prefix + f));
    let md = (await fs.readFile(path.join(dir, 'report.md'), 'utf8').catch(() => '')).trim();
    if (!md) continue;
    for (const f of files) md = md.split(`(${f})`).join(`(${prefix}${f})`);
    // demote headings one level: each evaluation becomes a section of the bundle's report
    md = md.replace(/^(#{1,5}) /gm, '#$1 ');
    parts.push(`\n<!-- evaluation ${i + 1}: ${title} -->\n${md}\n`);
  }
  await fs.writeFile(path.join(outDir, 'report.md'), relativisePaths(parts.join('\n'), root));
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      checkpoint: { type: 'string' },
      out: { type: 'string' },
      float16: { type: 'boolean', default: false },
      evaluation: { type: 'string', multiple: true },
      'metadata-patch': { type: 'string' },
      name: { type: 'string' },
      version: { type: 'string' },
      backend: { type: 'string' },
    },
  });
  if (!values.checkpoint || !values.out) {
    process.stderr.write(
      'usage: npm run export -- --checkpoint <bundle dir> --out <dir> [--float16] [--evaluation <report.json|eval dir>]... [--metadata-patch patch.json] [--name n] [--version v]\n',
    );
    process.exit(2);
  }
  const { pickBackend } = await import('./backend');
  await pickBackend(values.backend);
  const sources = await Promise.all((values.evaluation ?? []).map(readEvaluationSource));
  let metadataPatch: Record<string, unknown> | undefined;
  if (values['metadata-patch']) {
    const j = await readJsonIfExists<Record<string, unknown>>(cliPath(values['metadata-patch']));
    if (j === null) throw new Error(`--metadata-patch ${values['metadata-patch']}: file not found`);
    metadataPatch = j;
  }
  // training options store absolute paths; a published bundle should not carry this machine's layout
  const root = process.env.INIT_CWD ?? process.cwd();
  const outDir = cliPath(values.out);
  const meta = await exportCheckpoint(cliPath(values.checkpoint), outDir, {
    float16: values.float16,
    evaluation: sources.length ? sources.flatMap((s) => s.evaluation) : undefined,
    metadataPatch,
    root,
    name: values.name,
    version: values.version,
  });
  const withAssets = sources.filter((s) => s.dir);
  if (withAssets.length) {
    await writeReportAssets(
      outDir,
      withAssets.map((s) => ({ dir: s.dir, title: s.evaluation.map((e) => e.dataset).join(', ') })),
      `${meta.name} ${meta.version} — evaluation`,
      root,
    );
  }
  process.stdout.write(
    `exported ${meta.name} ${meta.version} -> ${outDir} (${Object.keys(meta.weightsSha256).length} files hashed${values.float16 ? ', float16' : ''}` +
      `${sources.length ? `, ${sources.length} evaluation report(s) with charts` : ''})\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`export failed: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
