/**
 * Dataset reader for the FundusLens dataset format (training, evaluation, threshold selection).
 *
 *   <dir>/labels.csv      image,ma,hm,hex,cws,healthy[,red][,split][,anything else]
 *   <dir>/masks/<label>/<image stem>.png   optional binary lesion masks
 *   <dir>/boxes.csv       optional: image,class,cx,cy,w,h (normalised to the photo, YOLO style)
 *
 * PARTIAL LABELS: an empty cell means "unknown" and is represented as **NaN** (never -1), so
 * that `x === 1` / `x === 0` tests select the known labels and NaN poisons any arithmetic that
 * forgets to mask it. Consumers mask NaN out of the loss, class weights, threshold selection
 * and metrics. A missing label column means unknown for every row.
 *
 * `healthy` is "no lesion at all", so where its cell is empty it is inferred when the row
 * decides it: any known lesion (or `red`) = 1 → healthy 0; all four lesions known 0 →
 * healthy 1. Conversely healthy = 1 makes empty lesion cells 0. Contradictions (healthy 1
 * with a lesion 1) are errors. Disable with `{ inferHealthy: false }`.
 *
 * `red` (microaneurysm OR haemorrhage, as in codras-idrid) is kept as its own target
 * (`item.red`, undefined when the column is absent) for the noisy-OR loss; it is not folded
 * into ma/hm.
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { LabelId, LesionLabelId } from '../../../src/core/types';
import { LABEL_IDS, LESION_LABEL_IDS } from '../../../src/core/types';
import { FundusLensError } from '../../../src/core/errors';
import { CsvSyntaxError, parseCsv } from './csv';

/** A bounding box, normalised to the photo's width/height (centre + size, YOLO style). */
export interface Box {
  /** e.g. 'od', 'hex', 'red' */
  class: string;
  cx: number;
  cy: number;
  w: number;
  h: number;
}

export interface DatasetItem {
  /** absolute path of the photo */
  image: string;
  /** file name without extension: the key of masks/<label>/<stem>.png */
  stem: string;
  /** 1, 0 or NaN (unknown) for every label */
  labels: Record<LabelId, number>;
  /** ma OR hm: 1, 0 or NaN; undefined when the dataset has no `red` column */
  red?: number;
  /** the `split` cell (e.g. train / val / test), undefined when absent or empty */
  split?: string;
  /** absolute paths of the lesion masks that exist */
  masks: Partial<Record<LesionLabelId, string>>;
  boxes: Box[];
  /** every other column, raw (e.g. gradable, quality, source) */
  extra: Record<string, string>;
  /** 1-based data row in labels.csv (header excluded) */
  row: number;
}

/** Per target: how many rows are positive, negative and unknown. */
export interface LabelCount {
  positive: number;
  negative: number;
  unknown: number;
}

export interface Dataset {
  /** absolute dataset folder */
  dir: string;
  items: DatasetItem[];
  /** true for each target with at least one known (0/1) value */
  labelsPresent: Record<LabelId | 'red', boolean>;
  counts: Record<LabelId | 'red', LabelCount>;
  /** label columns found in labels.csv */
  columns: string[];
  /** non-fatal findings, e.g. boxes for images that are not in labels.csv */
  warnings: string[];
}

export interface ReadDatasetOptions {
  /** infer empty `healthy` cells from the lesion labels (default true, see module doc) */
  inferHealthy?: boolean;
  /** check that every image file exists (default true) */
  checkFiles?: boolean;
}

const TARGETS: readonly (LabelId | 'red')[] = [...LABEL_IDS, 'red'];

function invalid(message: string, file: string): never {
  throw new FundusLensError('dataset-invalid', message, file);
}

/** Directory listings cached per folder: one readdir instead of a stat per file. */
async function listing(cache: Map<string, Set<string> | null>, dir: string): Promise<Set<string> | null> {
  if (cache.has(dir)) return cache.get(dir)!;
  let set: Set<string> | null = null;
  try {
    set = new Set(await readdir(dir));
  } catch {
    set = null;
  }
  cache.set(dir, set);
  return set;
}

async function fileExists(cache: Map<string, Set<string> | null>, path: string): Promise<boolean> {
  const set = await listing(cache, dirname(path));
  return set !== null && set.has(basename(path));
}

function parseLabelCell(v: string, col: string, where: string, file: string): number {
  const t = v.trim();
  if (t === '') return NaN;
  if (t === '1') return 1;
  if (t === '0') return 0;
  invalid(`${where}: column "${col}" must be 0, 1 or empty (unknown), found "${v}"`, file);
}

/**
 * Read a dataset folder. Throws FundusLensError('dataset-invalid') naming the row for a
 * malformed labels.csv / boxes.csv (wrong column count, label not 0/1/empty, missing or
 * duplicate image, contradictory labels).
 */
export async function readDataset(dir: string, options: ReadDatasetOptions = {}): Promise<Dataset> {
  const root = resolve(dir);
  const inferHealthy = options.inferHealthy ?? true;
  const checkFiles = options.checkFiles ?? true;
  const csvPath = join(root, 'labels.csv');
  let text: string;
  try {
    text = await readFile(csvPath, 'utf8');
  } catch {
    invalid(`No labels.csv in ${root}: a dataset folder needs labels.csv with columns image,ma,hm,hex,cws,healthy.`, csvPath);
  }
  let records;
  try {
    records = parseCsv(text);
  } catch (e) {
    if (e instanceof CsvSyntaxError) invalid(`labels.csv ${e.message}`, csvPath);
    throw e;
  }
  if (records.length === 0) invalid('labels.csv is empty (no header row).', csvPath);
  const header = records[0].fields.map((h) => h.trim());
  const col = new Map<string, number>();
  header.forEach((h, i) => {
    if (col.has(h)) invalid(`labels.csv header: column "${h}" appears twice.`, csvPath);
    col.set(h, i);
  });
  if (!col.has('image')) invalid(`labels.csv header must have an "image" column, found: ${header.join(', ')}`, csvPath);
  const labelCols = TARGETS.filter((t) => col.has(t));
  if (!LABEL_IDS.some((l) => col.has(l))) {
    invalid(`labels.csv header has none of the label columns ${LABEL_IDS.join(', ')}; found: ${header.join(', ')}`, csvPath);
  }
  const reserved = new Set<string>(['image', 'split', ...TARGETS]);
  const extraCols = header.filter((h) => !reserved.has(h));

  const dirCache = new Map<string, Set<string> | null>();
  const items: DatasetItem[] = [];
  const seen = new Map<string, number>();
  for (let r = 1; r < records.length; r++) {
    const rec = records[r];
    const f = rec.fields;
    const imageCell = (f[col.get('image')!] ?? '').trim();
    const where = `labels.csv row ${r} (line ${rec.line}${imageCell ? `, image "${imageCell}"` : ''})`;
    if (f.length !== header.length) invalid(`${where}: expected ${header.length} columns like the header, found ${f.length}.`, csvPath);
    if (!imageCell) invalid(`${where}: the image cell is empty.`, csvPath);
    // the image cell is a path relative to the dataset (images/x.jpg) or a bare file name under images/
    let image = resolve(root, imageCell);
    if (checkFiles && !(await fileExists(dirCache, image))) {
      const alt = resolve(root, 'images', imageCell);
      if (await fileExists(dirCache, alt)) image = alt;
      else invalid(`${where}: image file not found (${image}).`, csvPath);
    }
    if (seen.has(image)) invalid(`${where}: image listed twice (first at row ${seen.get(image)}).`, csvPath);
    seen.set(image, r);
    const stem = basename(image, extname(image));

    const labels = {} as Record<LabelId, number>;
    for (const l of LABEL_IDS) labels[l] = col.has(l) ? parseLabelCell(f[col.get(l)!], l, where, csvPath) : NaN;
    const red = col.has('red') ? parseLabelCell(f[col.get('red')!], 'red', where, csvPath) : undefined;
    if (labels.healthy === 1 && LESION_LABEL_IDS.some((l) => labels[l] === 1)) {
      invalid(`${where}: healthy is 1 but a lesion label is also 1.`, csvPath);
    }
    if (labels.healthy === 1 && red === 1) invalid(`${where}: healthy is 1 but red is also 1.`, csvPath);
    if (red === 0 && (labels.ma === 1 || labels.hm === 1)) invalid(`${where}: red is 0 but ma or hm is 1.`, csvPath);
    if (inferHealthy) {
      if (labels.healthy === 1) {
        for (const l of LESION_LABEL_IDS) if (Number.isNaN(labels[l])) labels[l] = 0;
      } else if (Number.isNaN(labels.healthy)) {
        if (LESION_LABEL_IDS.some((l) => labels[l] === 1) || red === 1) labels.healthy = 0;
        else if (LESION_LABEL_IDS.every((l) => labels[l] === 0)) labels.healthy = 1;
      }
    }
    const splitCell = col.has('split') ? f[col.get('split')!].trim() : '';
    const extra: Record<string, string> = {};
    for (const h of extraCols) extra[h] = f[col.get(h)!];

    const masks: Partial<Record<LesionLabelId, string>> = {};
    for (const l of LESION_LABEL_IDS) {
      const p = join(root, 'masks', l, `${stem}.png`);
      if (await fileExists(dirCache, p)) masks[l] = p;
    }
    items.push({ image, stem, labels, ...(red !== undefined ? { red } : {}), ...(splitCell ? { split: splitCell } : {}), masks, boxes: [], extra, row: r });
  }

  const warnings: string[] = [];
  await readBoxes(root, items, warnings);

  const counts = {} as Record<LabelId | 'red', LabelCount>;
  const labelsPresent = {} as Record<LabelId | 'red', boolean>;
  for (const t of TARGETS) {
    const c = { positive: 0, negative: 0, unknown: 0 };
    for (const it of items) {
      const v = t === 'red' ? it.red ?? NaN : it.labels[t];
      if (v === 1) c.positive++;
      else if (v === 0) c.negative++;
      else c.unknown++;
    }
    counts[t] = c;
    labelsPresent[t] = c.positive + c.negative > 0;
  }
  return { dir: root, items, labelsPresent, counts, columns: labelCols, warnings };
}

async function readBoxes(root: string, items: DatasetItem[], warnings: string[]): Promise<void> {
  const path = join(root, 'boxes.csv');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return;
  }
  let records;
  try {
    records = parseCsv(text);
  } catch (e) {
    if (e instanceof CsvSyntaxError) invalid(`boxes.csv ${e.message}`, path);
    throw e;
  }
  if (records.length === 0) return;
  const header = records[0].fields.map((h) => h.trim());
  const need = ['image', 'class', 'cx', 'cy', 'w', 'h'];
  const idx = need.map((n) => header.indexOf(n));
  if (idx.some((i) => i < 0)) invalid(`boxes.csv header must have columns ${need.join(',')}, found: ${header.join(', ')}`, path);
  // boxes name images by file name or by the same relative path as labels.csv
  const byName = new Map<string, DatasetItem>();
  for (const it of items) {
    byName.set(basename(it.image), it);
    byName.set(it.image, it);
  }
  let unknown = 0;
  for (let r = 1; r < records.length; r++) {
    const { fields: f, line } = records[r];
    const where = `boxes.csv row ${r} (line ${line})`;
    if (f.length !== header.length) invalid(`${where}: expected ${header.length} columns like the header, found ${f.length}.`, path);
    const img = f[idx[0]].trim();
    const cls = f[idx[1]].trim();
    const nums = idx.slice(2).map((i) => Number(f[i]));
    if (!cls) invalid(`${where}: empty class.`, path);
    if (nums.some((v, k) => !Number.isFinite(v) || v < 0 || v > 1 || f[idx[k + 2]].trim() === '')) {
      invalid(`${where}: cx, cy, w, h must be numbers in [0, 1] (normalised), found ${idx.slice(2).map((i) => f[i]).join(', ')}.`, path);
    }
    const it = byName.get(img) ?? byName.get(resolve(root, img));
    if (!it) {
      unknown++;
      continue;
    }
    it.boxes.push({ class: cls, cx: nums[0], cy: nums[1], w: nums[2], h: nums[3] });
  }
  if (unknown > 0) warnings.push(`boxes.csv: ${unknown} boxes refer to images that are not in labels.csv (ignored).`);
}
