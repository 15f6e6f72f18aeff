import type { EvaluationSummary, LabelSpec, LocalizationTable, ModelMetadata } from '../core/types';
import type { ModelCardData } from '../store';
import { isServedFile } from './http';

/**
 * metadata.json read on the main thread, for the disclaimer and the model card. The
 * worker validates the bundle for real (schema, hashes) when it loads the model; here a
 * light shape check is enough, and no tfjs code enters the page. The ROC plots are probed
 * separately ({@link probeRocs}), when the card is shown: at start-up their HEAD requests
 * (7 per evaluation, 21 for the demo model) ran on the main thread beside the first analysis.
 */
export async function fetchModelCard(modelUrl: string, fetchFn: typeof fetch = fetch): Promise<ModelCardData> {
  const url = new URL('metadata.json', modelUrl).href;
  let res: Response;
  try {
    res = await fetchFn(url);
  } catch (e) {
    return { status: 'error', error: { code: 'model-missing-file', message: `metadata.json could not be fetched (${String(e)})`, file: 'metadata.json' } };
  }
  if (!isServedFile(res)) {
    return { status: 'error', error: { code: 'model-missing-file', message: 'metadata.json is missing from the model bundle.', file: 'metadata.json' } };
  }
  let meta: ModelMetadata;
  try {
    meta = (await res.json()) as ModelMetadata;
  } catch {
    return { status: 'error', error: { code: 'model-bad-metadata', message: 'metadata.json is not valid JSON.', file: 'metadata.json' } };
  }
  if (!meta || typeof meta !== 'object' || !Array.isArray(meta.labels) || typeof meta.name !== 'string') {
    return { status: 'error', error: { code: 'model-bad-metadata', message: 'metadata.json lacks name or labels.', file: 'metadata.json' } };
  }
  return { status: 'ready', metadata: meta };
}

/**
 * The ROC plots that exist next to model.json. They are optional report files; probe the conventional names.
 * training/src/export.ts keeps the first evaluation's chart names and prefixes the charts of evaluation k (k >= 2)
 * with `eval<k>-`; the prefix stays in the name so the card can group them.
 */
export async function probeRocs(modelUrl: string, meta: Pick<ModelMetadata, 'labels' | 'evaluation'>, fetchFn: typeof fetch = fetch): Promise<{ name: string; url: string }[]> {
  const labelNames = ['dr', 'red', ...meta.labels.map((l) => l.id)];
  const evaluations = Array.isArray(meta.evaluation) ? meta.evaluation.length : 0;
  const prefixes = ['', ...Array.from({ length: Math.max(0, evaluations - 1) }, (_, k) => `eval${k + 2}-`)];
  const names = prefixes.flatMap((p) => labelNames.map((n) => ({ n: `${p}${n}`, file: `${p}roc-${n}.svg` })));
  const probes = await Promise.all(
    names.map(async ({ n, file }) => {
      const u = new URL(file, modelUrl).href;
      try {
        const r = await fetchFn(u, { method: 'HEAD' });
        return r.ok && (r.headers.get('content-type') ?? '').includes('svg') ? { name: n, url: u } : null;
      } catch {
        return null;
      }
    }),
  );
  return probes.filter((p): p is { name: string; url: string } => p !== null);
}

/** ROC plots of one evaluation: `evaluation` is its index in metadata.evaluation, `label` the name without the `eval<k>-` prefix. */
export interface RocGroup {
  evaluation: number;
  dataset: string | undefined;
  rocs: { name: string; label: string; url: string }[];
}

/**
 * The probed ROC plots grouped per evaluation, first evaluation first. Plots without a prefix
 * belong to the first evaluation (bundles exported before several evaluations were carried
 * only have those).
 */
export function rocGroups(rocs: readonly { name: string; url: string }[], evaluation: readonly Pick<EvaluationSummary, 'dataset'>[] | undefined): RocGroup[] {
  const groups = new Map<number, RocGroup>();
  for (const r of rocs) {
    const m = /^eval(\d+)-(.+)$/.exec(r.name);
    const index = m ? Number(m[1]) - 1 : 0;
    const label = m ? m[2] : r.name;
    let g = groups.get(index);
    if (!g) groups.set(index, (g = { evaluation: index, dataset: evaluation?.[index]?.dataset, rocs: [] }));
    g.rocs.push({ name: r.name, label, url: r.url });
  }
  return [...groups.values()].sort((a, b) => a.evaluation - b.evaluation);
}

export function isPlaceholder(meta: ModelMetadata | undefined): boolean {
  return !!meta && (meta.training as { placeholder?: unknown } | undefined)?.placeholder === true;
}

/** What an evaluation set consists of, read from its dataset name (the report names its data; nothing is guessed beyond that). */
export type EvaluationSource = 'synthetic' | 'real' | 'unknown';

const REAL_SETS = /\b(idrid|codras|messidor|eyepacs|aptos|ddr|drive|stare|e-?ophtha|real)\b/i;

/**
 * 'synthetic' when the dataset field names the synthetic generator, 'real' when it names a set of
 * real photographs, else 'unknown' (the card then just names the dataset). The card must not call
 * synthetic numbers real, so an unrecognised name never counts as real.
 */
export function evaluationSource(ev: Pick<EvaluationSummary, 'dataset'>): EvaluationSource {
  const d = ev.dataset ?? '';
  if (/synth/i.test(d)) return 'synthetic';
  if (REAL_SETS.test(d.replace(/[_:/-]+/g, ' '))) return 'real';
  return 'unknown';
}

/** One row of a localization table as the card shows it; null = not measured / undefined (report.json writes null). */
export interface LocalizationRowView {
  /** label id, or 'red' (ma or hm, CODRAS boxes) */
  label: string;
  /** the label's outline colours from the bundle (two for 'red'), for the chip */
  colours: string[];
  source: 'mask' | 'boxes';
  n: number;
  hits: number;
  pointingGame: number | null;
  chance: number | null;
  /** cell maps only (Grad-CAM, HiResCAM): the ideal cell map's pointing game and hits */
  upperBound: number | null;
  upperBoundHits: number | null;
  meanAp: number | null;
  prevalence: number | null;
  /** cell maps, masks: connected lesions over all images, and how many lie within the tolerance of a cell centre */
  lesions: number | null;
  reachableLesions: number | null;
}

export interface LocalizationView {
  map: LocalizationTable['map'];
  tolerancePx: number | null;
  /** a cell map's grid side in cells, and one cell's side in model px */
  grid: number | null;
  cellPx: number | null;
  rows: LocalizationRowView[];
  /** whether any row has an AUPR (masks only; box-only sets have none) */
  hasAupr: boolean;
  /** smallest n over the rows that have images */
  minN: number | null;
  /** a guided map scored with the lesion-contrast saliency (core's guidedSaliency 'contrast'); false = |gradient| or unknown */
  contrastSaliency: boolean;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const MAP_ORDER: LocalizationTable['map'][] = ['gradcam', 'guided-gradcam', 'hirescam', 'guided-hirescam'];

/**
 * Whether a map lives on the last block's cell grid (Grad-CAM, HiResCAM: one value per cell, so
 * the grid bound and the reachable-lesion counts apply) rather than at pixel resolution (the guided maps).
 */
export const isCellMap = (map: string): boolean => map === 'gradcam' || map === 'hirescam';

/**
 * The localization tables of one evaluation, ready to render: the paper's maps first (Grad-CAM,
 * Guided Grad-CAM), then HiResCAM and Guided HiResCAM when the evaluation scored them; numbers
 * sanitised (JSON nulls, NaN -> null); colours from the bundle's labels.
 * Empty when the evaluation predates localization (older bundles).
 */
export function localizationViews(ev: EvaluationSummary, labels: LabelSpec[], inputSize: number): LocalizationView[] {
  if (!Array.isArray(ev.localization)) return [];
  const colour = (id: string): string[] => {
    const c = labels.find((l) => l.id === id)?.colour;
    return c ? [c] : [];
  };
  return [...ev.localization]
    .filter((t) => t && Array.isArray(t.rows))
    .sort((a, b) => rank(a.map) - rank(b.map))
    .map((t) => {
      const cell = isCellMap(t.map);
      const grid = cell ? num(t.grid) : null;
      const rows: LocalizationRowView[] = t.rows.map((r) => ({
        label: r.label,
        colours: r.label === 'red' ? [...colour('ma'), ...colour('hm')] : colour(r.label),
        source: r.source,
        n: num(r.n) ?? 0,
        hits: num(r.hits) ?? 0,
        pointingGame: num(r.pointingGame),
        chance: num(r.chance),
        upperBound: cell ? num(r.upperBound) : null,
        upperBoundHits: cell ? num(r.upperBoundHits) : null,
        meanAp: num(r.meanAp),
        prevalence: num(r.prevalence),
        lesions: cell && num(r.lesions) ? num(r.lesions) : null,
        reachableLesions: cell && num(r.lesions) ? num(r.reachableLesions) : null,
      }));
      const ns = rows.map((r) => r.n).filter((n) => n > 0);
      return {
        map: t.map,
        tolerancePx: num(t.tolerancePx),
        grid,
        cellPx: grid && inputSize > 0 ? inputSize / grid : null,
        rows,
        hasAupr: rows.some((r) => r.meanAp !== null),
        minN: ns.length ? Math.min(...ns) : null,
        contrastSaliency: !cell && t.guidedSaliency === 'contrast',
      };
    });
}

function rank(map: string): number {
  const i = MAP_ORDER.indexOf(map as LocalizationTable['map']);
  return i < 0 ? MAP_ORDER.length : i;
}
