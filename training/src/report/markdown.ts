/**
 * report.md: the human-readable evaluation report (tables, chart links, honest notes).
 */
import type { GuidedSaliencyMode } from '../../../src/core/types';
import type { ClassificationTable, CrossLabelRow, LabelRow } from './classification';
import { isCellMap, MAP_KINDS, mapName, type LocalizationSummary, type MapKind } from './localization';

export interface ReportContext {
  modelName: string;
  architecture: string;
  inputSize: number;
  preprocess: unknown;
  backend: string;
  dataset: string;
  dataDir: string;
  split: string;
  images: number;
  failed: { stem: string; error: string }[];
  date: string;
  tolerancePx: number;
  toleranceNote: string;
  /** second, coarser pointing-game tolerance; null = not scored */
  coarseTolerancePx?: number | null;
  coarseToleranceNote?: string;
  /** maps scored (default ['gradcam'] for older callers) */
  maps?: readonly MapKind[];
  /** side of Grad-CAM's grid in cells */
  camGrid?: number;
  /** how the guided maps' fine factor was made (named in their headings) */
  guidedSaliency?: GuidedSaliencyMode;
  msPerImage: number;
  charts: { rocAll: string; rocPerLabel: Record<string, string>; distribution: string };
  /** names of rows in display order */
  order: string[];
  names: Record<string, string>;
  notes: string[];
  /** per lesion label: AUC against lesion-free negatives vs negatives with each other lesion */
  crossLabel?: CrossLabelRow[];
}

const pct = (v: number): string => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : 'n/a');
const ci = (c: [number, number]): string => (c.every(Number.isFinite) ? ` (${(100 * c[0]).toFixed(0)}–${(100 * c[1]).toFixed(0)})` : '');
const f3 = (v: number | undefined): string => (v !== undefined && Number.isFinite(v) ? v.toFixed(3) : 'n/a');

/** Paper Table I (Jiang et al., private + Messidor data, 350 test photos) for orientation only. */
const PAPER_TABLE: Record<string, [string, string, string, string]> = {
  ma: ['85.5%', '90.7%', '89.4%', '0.941'],
  hm: ['100%', '98.6%', '98.9%', '1.000'],
  hex: ['93.3%', '92.7%', '92.8%', '0.978'],
  cws: ['94.6%', '86.8%', '88.6%', '0.971'],
  healthy: ['93.9%', '94.4%', '94.2%', '0.989'],
};

function tableRow(id: string, name: string, r: LabelRow): string {
  const auc = Number.isFinite(r.auc) ? `${r.auc.toFixed(3)}${Number.isFinite(r.aucSe) ? ` ± ${r.aucSe.toFixed(3)}` : ''}` : 'n/a';
  const thr = Number.isFinite(r.threshold) ? r.threshold.toFixed(3) : '—';
  return `| ${name} (\`${id}\`) | ${r.n} | ${r.positives} | ${thr} | ${pct(r.sensitivity)}${ci(r.sensitivityCi)} | ${pct(r.specificity)}${ci(r.specificityCi)} | ${pct(r.accuracy)} | ${auc} | ${r.tp}/${r.fp}/${r.tn}/${r.fn} |`;
}

export function renderMarkdown(ctx: ReportContext, table: ClassificationTable, loc: LocalizationSummary[]): string {
  const L: string[] = [];
  L.push(`# Evaluation: ${ctx.modelName} on ${ctx.dataset}`);
  L.push('');
  L.push(`- Date: ${ctx.date}`);
  L.push(`- Model: \`${ctx.modelName}\` (${ctx.architecture}), input ${ctx.inputSize}², preprocessing \`${JSON.stringify(ctx.preprocess)}\``);
  L.push(`- Data: \`${ctx.dataDir}\`, split: **${ctx.split}**, ${ctx.images} image(s) evaluated${ctx.failed.length ? `, ${ctx.failed.length} failed (listed below)` : ''}`);
  L.push(`- Backend: \`${ctx.backend}\`, ${ctx.msPerImage.toFixed(0)} ms per image (decode + preprocess + predict + the explanation maps where needed)`);
  L.push('');
  L.push('## Classification (paper Table I)');
  L.push('');
  L.push('Decisions at the bundle\'s own per-label thresholds (not re-tuned on this data). Unknown (empty) labels are excluded per label, so `n` differs between rows. Brackets: 95 % Wilson interval; AUC ± Hanley–McNeil standard error.');
  L.push('');
  L.push('| label | n | positives | threshold | sensitivity | specificity | accuracy | AUC | TP/FP/TN/FN |');
  L.push('|---|---:|---:|---:|---|---|---:|---|---|');
  for (const id of ctx.order) {
    const r = table.rows[id as keyof ClassificationTable['rows']];
    if (r) L.push(tableRow(id, ctx.names[id] ?? id, r));
  }
  L.push('');
  for (const id of ['dr', 'red'] as const) {
    const r = table.rows[id];
    if (r) L.push(`- \`${id}\`: ${r.definition}.`);
  }
  L.push('');
  const cross = (ctx.crossLabel ?? []).filter((r) => r.positives > 0 && Number.isFinite(r.lesionFree.auc) && Object.values(r.withOther).some((v) => v && Number.isFinite(v.auc)));
  if (cross.length) {
    // columns in the rows' own label order; a label's own column is '—'
    const others = cross.map((r) => r.label as string);
    L.push('### Does each lesion output answer for its own lesion?');
    L.push('');
    L.push(
      'AUC of each lesion label over its positives against two kinds of negatives: photos without any lesion, and photos that carry another lesion (one column per lesion; n = negatives in that group). A label that detects its own lesion scores alike in every column; one that has learnt "this eye is diseased" scores near 1 against lesion-free photos and lower where other lesions are present.',
    );
    L.push('');
    L.push(`| label | positives | vs lesion-free negatives | ${others.map((o) => `vs negatives with ${ctx.names[o] ?? o}`).join(' | ')} |`);
    L.push(`|---|---:|---|${others.map(() => '---|').join('')}`);
    const cell = (v: { n: number; auc: number } | undefined) => (v && Number.isFinite(v.auc) ? `${v.auc.toFixed(3)} (n = ${v.n})` : '—');
    for (const r of cross) L.push(`| ${ctx.names[r.label] ?? r.label} (\`${r.label}\`) | ${r.positives} | ${cell(r.lesionFree)} | ${others.map((o) => cell(r.withOther[o as keyof typeof r.withOther])).join(' | ')} |`);
    L.push('');
  }
  L.push('For orientation only — the paper\'s Table I (Jiang et al., their own data, not comparable to this evaluation):');
  L.push('');
  L.push('| label | sensitivity | specificity | accuracy | AUC |');
  L.push('|---|---|---|---|---|');
  for (const [id, v] of Object.entries(PAPER_TABLE)) L.push(`| ${ctx.names[id] ?? id} | ${v.join(' | ')} |`);
  L.push('');
  L.push('## Charts');
  L.push('');
  L.push(`![ROC curves](${ctx.charts.rocAll})`);
  L.push('');
  L.push(`ROC per label (paper Fig. 5): ${Object.entries(ctx.charts.rocPerLabel).map(([id, file]) => `[${id}](${file})`).join(', ')}. Dots mark the operating point at the bundle threshold.`);
  L.push('');
  L.push(`![Label distribution](${ctx.charts.distribution})`);
  L.push('');
  const maps = ctx.maps ?? ['gradcam'];
  L.push('## Localization');
  L.push('');
  if (maps.length === 0) {
    L.push('Not measured (--no-localization).');
  } else if (loc.length === 0) {
    L.push('No lesion masks or boxes for evaluated images with a positive label: localization not measured.');
  } else {
    L.push(
      `Each map explains one label's logit and is computed for every image where that label is TRULY present (whatever the model predicted) and a mask or box exists, then multiplied by the field-of-view mask as the app shows it. Pointing game: the map's peak must lie within ${ctx.tolerancePx} model px of the lesion (${ctx.toleranceNote}); "chance" is the hit rate of a peak placed at random inside the field of view (the lesion area dilated by the tolerance, as a fraction of the FOV) — compare against it, not against 0. AUPR: average precision of the map's pixels against the lesion mask on the model grid; "prevalence" is the lesion pixel fraction, the AUPR of an uninformative map. "Empty maps" had no positive value anywhere; they count as misses.`,
    );
    L.push('');
    for (const map of MAP_KINDS.filter((m) => maps.includes(m))) {
      const rows = loc.filter((s) => (s.map ?? 'gradcam') === map);
      const cam = isCellMap(map);
      L.push(`### ${mapName(map, cam ? ctx.camGrid : undefined, cam ? undefined : ctx.guidedSaliency)}`);
      L.push('');
      const salNote =
        ctx.guidedSaliency === 'contrast'
          ? ' Guided backprop enters as the lesion-contrast saliency: only the gradient towards each label\'s lesion contrast (darker for ma/hm, brighter for hex/cws), summed over the colour channels.'
          : ctx.guidedSaliency === 'abs'
            ? ' Guided backprop enters as max over colour channels of |gradient|.'
            : '';
      if (map === 'hirescam') {
        L.push('HiResCAM (Draelos & Carin 2020): ReLU(Σ_k ∂y/∂A^k ⊙ A^k) on the same grid as Grad-CAM, the gradient kept per cell instead of averaged (src/core/explain/hires-cam.ts); the app offers it instead of Grad-CAM. The "ideal cell map" columns read as for Grad-CAM.');
      } else if (map === 'guided-hirescam') {
        L.push('Guided HiResCAM = guided backprop × HiResCAM (eq. 3 with HiResCAM in place of Grad-CAM): what the app shows as the guided map when HiResCAM is chosen.' + salNote);
      } else if (cam) {
        const cell = ctx.camGrid ? ctx.inputSize / ctx.camGrid : undefined;
        L.push(
          `Grad-CAM of the last convolutional block${cell ? ` (one cell = ${cell} model px)` : ''}, upsampled bilinearly. "Ideal cell map": the pointing game a perfect map on the same grid would reach — its peak at the centre of the best cell — at the same tolerance. It is the resolution limit of Grad-CAM, not of the model: read the pointing game against it. A sample is one image and label and a hit on ANY of its lesions counts, so with several lesions per image the bound is often near 100 %: the gap to it is then the map's, not the grid's. "Lesions near a cell centre" counts single lesions (connected on the model grid) within the tolerance of some cell centre: the share a cell-level map could point at one by one.`,
        );
      } else {
        L.push('Guided Grad-CAM = guided backprop × Grad-CAM (eq. 3, point-wise), the pixel-resolution map the paper thresholds to outline lesions (Fig. 6); computed with src/core/explain as in the app, for the annotated labels only.' + salNote);
      }
      L.push('');
      if (rows.length === 0) {
        L.push('No samples.');
        L.push('');
        continue;
      }
      L.push(`| label | source | n | hits (pointing game @ ${ctx.tolerancePx} px) | chance |${cam ? ' ideal cell map | lesions near a cell centre |' : ''} empty maps | mean AUPR | prevalence |`);
      L.push(`|---|---|---:|---|---:|${cam ? '---|---|' : ''}---:|---:|---:|`);
      for (const s of rows) {
        const reach = s.lesions ? `${s.reachableLesions}/${s.lesions} = ${pct(s.reachableLesions! / s.lesions)}` : 'n/a';
        const bound = cam ? ` ${s.upperBound !== undefined ? `${s.upperBoundHits}/${s.n} = ${pct(s.upperBound)}` : 'n/a'} | ${reach} |` : '';
        L.push(`| ${ctx.names[s.label] ?? s.label} (\`${s.label}\`) | ${s.source} | ${s.n} | ${s.hits}/${s.n} = ${pct(s.pointingGame)} | ${pct(s.chance)} |${bound} ${s.emptyMaps} | ${f3(s.meanAp)} | ${f3(s.meanPrevalence)} |`);
      }
      L.push('');
      const coarse = rows.filter((s) => s.coarse);
      if (ctx.coarseTolerancePx && coarse.length) {
        L.push(`At a coarser tolerance of ${ctx.coarseTolerancePx} px (${ctx.coarseToleranceNote ?? 'set with --coarse-tolerance'}) — for reading only; the criterion above (${ctx.tolerancePx} px) is the stated one:`);
        L.push('');
        L.push(`| label | source | n | hits @ ${ctx.coarseTolerancePx} px | chance @ ${ctx.coarseTolerancePx} px |${cam ? ` ideal cell map @ ${ctx.coarseTolerancePx} px |` : ''}`);
        L.push(`|---|---|---:|---|---:|${cam ? '---|' : ''}`);
        for (const s of coarse) {
          const c = s.coarse!;
          const bound = cam ? ` ${c.upperBound !== undefined ? `${c.upperBoundHits}/${s.n} = ${pct(c.upperBound)}` : 'n/a'} |` : '';
          L.push(`| ${ctx.names[s.label] ?? s.label} (\`${s.label}\`) | ${s.source} | ${s.n} | ${c.hits}/${s.n} = ${pct(c.pointingGame)} | ${pct(c.chance)} |${bound}`);
        }
        L.push('');
      }
    }
  }
  L.push('## Notes');
  L.push('');
  for (const n of ctx.notes) L.push(`- ${n}`);
  if (ctx.failed.length) {
    L.push('');
    L.push('## Images that failed');
    L.push('');
    for (const f of ctx.failed) L.push(`- \`${f.stem}\`: ${f.error}`);
  }
  L.push('');
  L.push('Files: `report.json` (EvaluationSummary, the shape stored in a bundle\'s metadata.evaluation), `details.json` (per-image predictions, ROC points, localization samples), SVG charts.');
  L.push('');
  return L.join('\n');
}
