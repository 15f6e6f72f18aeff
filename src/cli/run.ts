/**
 * `npm run analyze`: analyse photos from the command line with the same core pipeline as the
 * app. One JSON line per input in <out>/results.jsonl, an overlay PNG per photo and, with
 * --maps, each lesion label's class-activation map (--cam: Grad-CAM or HiResCAM) at the photo's size. A broken input is reported as
 * {"ok": false} and the run goes on; exit code 1 when any input failed.
 */
import { closeSync, existsSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { analyze } from '../core/analyze';
import { FundusLensError, isFundusLensError } from '../core/errors';
import { fovMaskOnGrid, upsampleMap, warpMapToPhoto } from '../core/lesions/geometry';
import { loadBundle } from '../core/model/bundle';
import type { FundusModel } from '../core/model/fundus-model';
import type { AnalysisResult, CamMethod, StageName } from '../core/types';
import { parseCliArgs, USAGE, type CliOptions } from './args';
import { chooseBackend } from './backend';
import { decodeImage } from './decode';
import { fsBundleReader } from './fs-bundle';
import { expandInputs } from './inputs';
import { greyPng, renderOverlay } from './overlay';
import { ProgressBar, type ProgressSink } from './progress';

export interface CliIo {
  stdout: ProgressSink;
  stderr: ProgressSink;
}

/** One line of results.jsonl for a successful analysis (schema: /work/briefs/C-readme-snippet.md → README). */
export interface ResultLine {
  image: string;
  ok: true;
  quality: { gradable: boolean; score: number; reasons: string[]; codes: string[] };
  probabilities: AnalysisResult['probabilities'];
  positive: AnalysisResult['positive'];
  summary: AnalysisResult['summary'];
  forced: boolean;
  outlines: { label: string; points: [number, number][]; area: number; score: number }[];
  /**
   * Where analyze() found the optic disc and kept outlines away from it (photo pixels), or null:
   * not searched (no positive lesion label, or ungradable) or no clear disc found.
   */
  optic_disc: { x: number; y: number; diameter: number; confidence: number } | null;
  width: number;
  height: number;
  timings_ms: Partial<Record<StageName, number>>;
  backend: string;
  model: string;
  /** the class-activation map the outlines (and --maps PNGs) were made from */
  cam_method: CamMethod;
}
export interface ErrorLine {
  image: string;
  ok: false;
  error: string;
  code?: string;
}

const r1 = (v: number): number => Math.round(v * 10) / 10;
const r4 = (v: number): number => Math.round(v * 1e4) / 1e4;

/** The JSON line for one analysed photo. `decodeMs` is added to the timings; total covers decode + analysis. */
export function toResultLine(image: string, r: AnalysisResult, decodeMs: number): ResultLine {
  const timings: Partial<Record<StageName, number>> = { decode: r1(decodeMs) };
  for (const [k, v] of Object.entries(r.timingsMs)) if (k !== 'total' && v !== undefined) timings[k as StageName] = r1(v);
  timings.total = r1(decodeMs + (r.timingsMs.total ?? 0));
  return {
    image,
    ok: true,
    quality: { gradable: r.quality.gradable, score: r4(r.quality.score), reasons: r.quality.reasons, codes: r.quality.codes },
    probabilities: Object.fromEntries(Object.entries(r.probabilities).map(([k, v]) => [k, r4(v)])) as ResultLine['probabilities'],
    positive: r.positive,
    summary: r.summary,
    forced: r.forced,
    outlines: r.outlines.map((o) => ({ label: o.label, points: o.points, area: Math.round(o.area), score: r4(o.score) })),
    optic_disc: r.opticDisc
      ? { x: r1(r.opticDisc.x), y: r1(r.opticDisc.y), diameter: r1(r.opticDisc.diameter), confidence: r4(r.opticDisc.confidence) }
      : null,
    width: r.transform.photoWidth,
    height: r.transform.photoHeight,
    timings_ms: timings,
    backend: r.backend,
    model: r.model,
    cam_method: r.camMethod ?? 'gradcam',
  };
}

function noModelMessage(o: CliOptions): string {
  const where = resolve(o.model);
  return o.modelIsDefault
    ? `No model bundle at the default location ${where}.\n` +
        `Pass one with --model <folder> (a folder holding metadata.json, model.json and the weight shards, ` +
        `e.g. the output of \`npm run train\` / \`npm run export\`), e.g.\n  npm run analyze -- --model path/to/bundle photos/`
    : `No model bundle at ${where} (metadata.json is missing). --model must point at a folder holding metadata.json, model.json and the weight shards.`;
}

/** Runs the CLI; resolves to the process exit code (0 ok, 1 some input failed, 2 usage/setup error). */
export async function runCli(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const err = (s: string): void => void io.stderr.write(`${s}\n`);
  let o: CliOptions;
  try {
    o = parseCliArgs(argv);
  } catch (e) {
    err(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (o.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (o.inputs.length === 0) {
    err(`No photos given.\n\n${USAGE}`);
    return 2;
  }
  if (!existsSync(join(o.model, 'metadata.json'))) {
    err(noModelMessage(o));
    return 2;
  }

  let backend: string;
  try {
    const choice = await chooseBackend(o.backend);
    backend = choice.backend;
    err(`backend: ${backend}${choice.notes.length ? ` (${choice.notes.join('; ')})` : ''}`);
  } catch (e) {
    err(`Could not start a compute backend: ${(e as Error).message}`);
    return 2;
  }

  let model: FundusModel;
  try {
    model = await loadBundle(fsBundleReader(o.model), { foldBatchNorm: true });
    await model.warmup();
  } catch (e) {
    const file = isFundusLensError(e) && e.file ? ` (${join(o.model, e.file)})` : '';
    err(`Could not load the model from ${resolve(o.model)}${file}: ${(e as Error).message}`);
    return 2;
  }
  const meta = model.metadata;
  err(`model: ${meta.name}@${meta.version} from ${resolve(o.model)}; explanation map: ${o.cam === 'hirescam' ? 'HiResCAM' : 'Grad-CAM'}`);

  const items = expandInputs(o.inputs, [o.out]);
  if (items.length === 0) {
    err('No photos found in the given folders (looked for .jpg .jpeg .png .tif .tiff .webp).');
    model.dispose();
    return 2;
  }
  mkdirSync(o.out, { recursive: true });
  const resultsPath = join(o.out, 'results.jsonl');
  // One synchronous write per line: results of finished photos survive a crash or Ctrl-C.
  const fd = openSync(resultsPath, 'w');
  const bar = new ProgressBar(items.length, io.stderr);
  const usedNames = new Map<string, number>();
  let failed = 0;
  try {
    for (const item of items) {
      const base = basename(item.path, extname(item.path));
      // Two inputs called eye.jpg in different folders must not overwrite each other's outputs.
      const n = usedNames.get(base) ?? 0;
      usedNames.set(base, n + 1);
      const stem = n === 0 ? base : `${base}-${n + 1}`;
      let line: ResultLine | ErrorLine;
      let status: string;
      try {
        if (item.error) throw new FundusLensError('decode-failed', `Could not read "${item.path}": ${item.error}.`, item.path);
        bar.update(`${item.path} decode`);
        const t0 = performance.now();
        const img = await decodeImage(item.path);
        const decodeMs = performance.now() - t0;
        const result = await analyze(img, model, {
          force: o.force,
          maps: o.maps ? 'gradcam' : 'none',
          cam: o.cam,
          onProgress: (stage, f) => bar.update(`${item.path} ${stage}`, f),
        });
        line = toResultLine(item.path, result, decodeMs);
        await writeFile(join(o.out, `${stem}.overlay.png`), await renderOverlay(img, result, meta.labels));
        const camMaps = result.maps?.gradCam ?? [];
        const size = result.transform.inputSize;
        const fovMask = camMaps.length ? fovMaskOnGrid(result.fov, result.transform, size) : undefined;
        for (const m of camMaps) {
          // on the model grid and FOV-masked, as the app draws it (the result keeps the class maps on their coarse grid)
          const grey = warpMapToPhoto({ ...m, width: size, height: size, data: upsampleMap(m, size, fovMask) }, result.transform);
          await writeFile(join(o.out, `${stem}.${m.label}.cam.png`), await greyPng(grey, img.width, img.height));
        }
        // a refused photo says why, so whoever runs a folder knows what to retake without opening the JSON
        status = result.summary + (result.forced ? ' (forced)' : result.summary === 'ungradable' ? `: ${result.quality.reasons.join(' ')}` : '');
      } catch (e) {
        failed++;
        const message = e instanceof Error ? e.message : String(e);
        line = { image: item.path, ok: false, error: message, ...(isFundusLensError(e) ? { code: e.code } : {}) };
        status = `FAILED: ${message}`;
      }
      writeSync(fd, `${JSON.stringify(line)}\n`);
      bar.tick(item.path, status);
    }
  } finally {
    closeSync(fd);
    model.dispose();
  }
  err(`${items.length - failed} analysed, ${failed} failed -> ${resultsPath}`);
  return failed > 0 ? 1 : 0;
}
