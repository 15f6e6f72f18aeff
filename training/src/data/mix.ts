/**
 * Builds a fine-tuning set from the TRAIN splits of several datasets in the FundusLens format:
 * `npm run mix -- --out <dir> --real <dir>=<prefix> … [--synth <dir>=<prefix> (--synth-n N --seed S | --synth-list <file>)]`.
 *
 * Why a mix and not the real photos alone: the real training photos are few (413 CODRAS-IDRiD with
 * two labels, 14 IDRiD with masks), so fine-tuning on them alone would let the outputs that only the
 * synthetic data labels (ma, hm, cws separately, healthy) drift. Synthetic photos keep those supervised.
 *
 * Nothing is copied: `<out>/<prefix>` links to each source's `images/` folder and
 * `<out>/masks/<label>/<stem>.png` to its masks. labels.csv carries each source's RAW cells (an empty
 * cell stays unknown; no inference), `split=train` and a `source` column. Only rows with split=train
 * (and not gradable=0) are taken, so no test image can reach training. Stems must be unique across
 * sources because masks are keyed by stem.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { LESION_LABEL_IDS } from '../../../src/core/types';
import { Rng } from '../pipeline/rng';
import { parseCsv } from './csv';

/** Columns of the mixed labels.csv, in order. */
export const MIX_COLUMNS = ['image', 'ma', 'hm', 'hex', 'cws', 'healthy', 'red', 'split', 'source'] as const;

export interface MixSource {
  /** dataset folder (labels.csv, images/, optional masks/) */
  dir: string;
  /** sub-folder name in the mix that links to `<dir>/images` */
  prefix: string;
  /** value of the `source` column (default: the folder's name) */
  name?: string;
  /** synthetic source: which train rows to take; all when absent */
  select?: { n: number; seed: number } | { stems: string[] };
}

export interface MixRow {
  cells: Record<(typeof MIX_COLUMNS)[number], string>;
  stem: string;
  /** absolute mask paths by label */
  masks: Partial<Record<string, string>>;
}

/** Reads the train rows of one source (raw cells, image re-rooted under the prefix). */
export async function readSourceRows(src: MixSource): Promise<MixRow[]> {
  const file = path.join(src.dir, 'labels.csv');
  const recs = parseCsv(await fs.readFile(file, 'utf8'));
  if (recs.length < 1) throw new Error(`${file}: empty`);
  const header = recs[0].fields.map((h) => h.trim());
  const col = (name: string) => header.indexOf(name);
  if (col('image') < 0) throw new Error(`${file}: no "image" column`);
  const rows: MixRow[] = [];
  for (const r of recs.slice(1)) {
    const get = (name: string) => (col(name) >= 0 ? (r.fields[col(name)] ?? '').trim() : '');
    if (get('split') !== 'train' || get('gradable') === '0') continue;
    const image = get('image');
    if (!image.startsWith('images/')) throw new Error(`${file} line ${r.line}: image "${image}" is not under images/`);
    const stem = path.basename(image, path.extname(image));
    const masks: Partial<Record<string, string>> = {};
    for (const l of LESION_LABEL_IDS) {
      const m = path.join(src.dir, 'masks', l, `${stem}.png`);
      if (await fs.stat(m).then(() => true, () => false)) masks[l] = path.resolve(m);
    }
    rows.push({
      stem,
      masks,
      cells: {
        image: `${src.prefix}/${image.slice('images/'.length)}`,
        ma: get('ma'),
        hm: get('hm'),
        hex: get('hex'),
        cws: get('cws'),
        healthy: get('healthy'),
        red: get('red'),
        split: 'train',
        source: src.name ?? path.basename(path.resolve(src.dir)),
      },
    });
  }
  return rows;
}

/** Applies a source's selection: a seeded sample of n train rows, or an explicit ordered stem list. */
export function selectRows(rows: MixRow[], select: MixSource['select']): MixRow[] {
  if (!select) return rows;
  if ('stems' in select) {
    const byStem = new Map(rows.map((r) => [r.stem, r]));
    return select.stems.map((s) => {
      const r = byStem.get(s);
      if (!r) throw new Error(`--synth-list: ${s} is not a train row of the synthetic set`);
      return r;
    });
  }
  if (select.n > rows.length) throw new Error(`asked for ${select.n} synthetic train rows, the set has ${rows.length}`);
  return new Rng(select.seed).shuffle(rows).slice(0, select.n);
}

function csvCell(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** Writes the mix: links, masks, labels.csv. Returns the rows written. */
export async function buildMix(out: string, sources: MixSource[]): Promise<MixRow[]> {
  const all: MixRow[] = [];
  const seen = new Map<string, string>();
  await fs.mkdir(out, { recursive: true });
  for (const src of sources) {
    const rows = selectRows(await readSourceRows(src), src.select);
    for (const r of rows) {
      const prev = seen.get(r.stem);
      if (prev) throw new Error(`stem ${r.stem} is in both ${prev} and ${src.dir}: masks are keyed by stem`);
      seen.set(r.stem, src.dir);
    }
    const link = path.join(out, src.prefix);
    await fs.rm(link, { force: true, recursive: false }).catch(() => undefined);
    await fs.symlink(path.resolve(src.dir, 'images'), link);
    all.push(...rows);
  }
  await fs.rm(path.join(out, 'masks'), { recursive: true, force: true });
  for (const r of all) {
    for (const [label, m] of Object.entries(r.masks)) {
      const dir = path.join(out, 'masks', label);
      await fs.mkdir(dir, { recursive: true });
      await fs.symlink(m!, path.join(dir, `${r.stem}.png`));
    }
  }
  const text = [MIX_COLUMNS.join(','), ...all.map((r) => MIX_COLUMNS.map((c) => csvCell(r.cells[c])).join(','))].join('\n') + '\n';
  await fs.writeFile(path.join(out, 'labels.csv'), text);
  return all;
}

function parseSource(v: string): MixSource {
  const eq = v.lastIndexOf('=');
  if (eq <= 0) throw new Error(`expected <dir>=<prefix>, got "${v}"`);
  return { dir: path.resolve(process.env.INIT_CWD ?? process.cwd(), v.slice(0, eq)), prefix: v.slice(eq + 1) };
}

const USAGE = `usage: npm run mix -- --out <dir> --real <dir>=<prefix> [--real ...] [--synth <dir>=<prefix> (--synth-n N [--seed S] | --synth-list <file with one stem per line>)]`;

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      real: { type: 'string', multiple: true },
      synth: { type: 'string' },
      'synth-n': { type: 'string' },
      'synth-list': { type: 'string' },
      seed: { type: 'string', default: '1' },
    },
  });
  if (!values.out || (!values.real?.length && !values.synth)) throw new Error(USAGE);
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const sources: MixSource[] = (values.real ?? []).map(parseSource);
  if (values.synth) {
    const s = parseSource(values.synth);
    s.name = 'synthetic';
    if (values['synth-list']) {
      const stems = (await fs.readFile(path.resolve(cwd, values['synth-list']), 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
      s.select = { stems };
    } else if (values['synth-n']) {
      s.select = { n: Number.parseInt(values['synth-n'], 10), seed: Number.parseInt(values.seed!, 10) };
    }
    sources.push(s);
  }
  const out = path.resolve(cwd, values.out);
  const rows = await buildMix(out, sources);
  const bySource = new Map<string, number>();
  for (const r of rows) bySource.set(r.cells.source, (bySource.get(r.cells.source) ?? 0) + 1);
  const masks = rows.filter((r) => Object.keys(r.masks).length > 0).length;
  process.stdout.write(`mix: ${rows.length} train rows -> ${out} (${[...bySource].map(([k, v]) => `${k} ${v}`).join(', ')}; ${masks} with lesion masks)\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`mix failed: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
