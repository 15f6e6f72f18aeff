/**
 * Consensus of several annotators (the paper's labels were "validated by more than three
 * ophthalmologists", §II.A): read each annotator's labels.csv, measure per-label agreement
 * (Cohen's κ for two annotators, Fleiss' κ for three or more — helper E1's implementations in
 * core/metrics), list the disagreements to adjudicate, and build a consensus labels.csv by a
 * chosen rule.
 *
 * Rules decide the four LESION labels; Healthy is then derived (1 ⇔ every lesion decided 0,
 * 0 ⇔ some lesion decided 1, unknown otherwise), so the consensus obeys the dataset's
 * healthy rule by construction. Undecided cells are written empty = "unknown": training
 * masks them out of the loss instead of guessing.
 */
import { cohenKappa, fleissKappa } from '../../core/metrics/agreement';
import { LABEL_IDS, LESION_LABEL_IDS, type LabelId, type LesionLabelId } from '../../core/types';
import { FundusLensError } from '../../core/errors';
import { CsvError, parseCsv, toCsv } from './csv';
import type { Bit } from './labels';

/** One annotator's file: image -> label -> 0/1 (absent = not rated). */
export interface AnnotatorSet {
  annotator: string;
  file: string;
  labels: Map<string, Partial<Record<LabelId, Bit>>>;
  warnings: string[];
}

function bad(file: string, message: string): never {
  throw new FundusLensError('dataset-invalid', message, file);
}

/**
 * Read one annotator's labels.csv (ours or any file in the dataset format). The annotator is
 * the `annotator` column when it names one person, else the file name. Empty cells are
 * "not rated"; an empty healthy is inferred as the dataset reader does; rows that break the
 * healthy rule are left out with a warning.
 */
export function readAnnotatorCsv(text: string, file: string): AnnotatorSet {
  let recs;
  try {
    recs = parseCsv(text);
  } catch (e) {
    if (e instanceof CsvError) bad(file, `${file}: ${e.message}`);
    throw e;
  }
  if (!recs.length) bad(file, `${file} is empty.`);
  const header = recs[0].fields.map((h) => h.trim());
  const col = (n: string) => header.indexOf(n);
  if (col('image') < 0) bad(file, `${file}: the header needs an "image" column (found: ${header.join(', ')}).`);
  if (!LABEL_IDS.some((l) => col(l) >= 0)) bad(file, `${file}: the header has none of the label columns ${LABEL_IDS.join(', ')}.`);
  const labels = new Map<string, Partial<Record<LabelId, Bit>>>();
  const warnings: string[] = [];
  const names = new Set<string>();
  for (const { line, fields } of recs.slice(1)) {
    const image = (fields[col('image')] ?? '').trim();
    if (fields.length !== header.length) bad(file, `${file} line ${line}: expected ${header.length} columns like the header, found ${fields.length}.`);
    if (!image) bad(file, `${file} line ${line}: the image cell is empty.`);
    const v: Partial<Record<LabelId, Bit>> = {};
    for (const l of LABEL_IDS) {
      if (col(l) < 0) continue;
      const c = fields[col(l)].trim();
      if (c === '1' || c === '0') v[l] = Number(c) as Bit;
      else if (c !== '') bad(file, `${file} line ${line}: "${l}" must be 0, 1 or empty, found "${c}".`);
    }
    const anyLesion = LESION_LABEL_IDS.some((l) => v[l] === 1);
    if (v.healthy === 1 && anyLesion) {
      warnings.push(`${file} line ${line} (${image}): healthy is 1 but a lesion is ticked too; row ignored.`);
      continue;
    }
    if (v.healthy === 1) for (const l of LESION_LABEL_IDS) v[l] ??= 0;
    else if (v.healthy === undefined) {
      if (anyLesion) v.healthy = 0;
      else if (LESION_LABEL_IDS.every((l) => v[l] === 0)) v.healthy = 1;
    } else if (!anyLesion && LESION_LABEL_IDS.every((l) => v[l] === 0)) {
      warnings.push(`${file} line ${line} (${image}): healthy is 0 but no lesion is ticked; row ignored.`);
      continue;
    }
    if (labels.has(image)) {
      warnings.push(`${file} line ${line}: "${image}" appears twice; the first row is kept.`);
      continue;
    }
    labels.set(image, v);
    const a = col('annotator') >= 0 ? fields[col('annotator')].trim() : '';
    if (a) names.add(a);
  }
  const annotator = names.size === 1 ? [...names][0] : file.replace(/\.csv$/i, '');
  return { annotator, file, labels, warnings };
}

/** Agreement on one label over the photos every annotator rated. */
export interface LabelAgreement {
  label: LabelId;
  method: 'cohen' | 'fleiss';
  /** NaN when undefined (everyone always gave the same answer) */
  kappa: number;
  /** photos rated by every annotator */
  n: number;
  /** fraction of those photos where all annotators agree */
  observed: number;
  /** positive votes / all votes over those photos */
  positiveRate: number;
}

/** Annotator display names, made unique (two files by "dr. lee" become "dr. lee", "dr. lee (2)"). */
export function raterNames(sets: readonly AnnotatorSet[]): string[] {
  const used = new Map<string, number>();
  return sets.map((s) => {
    const k = (used.get(s.annotator) ?? 0) + 1;
    used.set(s.annotator, k);
    return k === 1 ? s.annotator : `${s.annotator} (${k})`;
  });
}

/** Per-label agreement table (two annotators: Cohen's κ; three or more: Fleiss' κ). */
export function agreementTable(sets: readonly AnnotatorSet[]): LabelAgreement[] {
  if (sets.length < 2) throw new Error('Agreement needs at least two annotators’ files.');
  const images = [...sets[0].labels.keys()];
  return LABEL_IDS.map((label) => {
    const votes: Bit[][] = [];
    for (const img of images) {
      const row = sets.map((s) => s.labels.get(img)?.[label]);
      if (row.every((v) => v === 0 || v === 1)) votes.push(row as Bit[]);
    }
    const n = votes.length;
    const observed = n ? votes.filter((r) => r.every((v) => v === r[0])).length / n : NaN;
    const pos = votes.reduce((s, r) => s + r.reduce<number>((a, v) => a + v, 0), 0);
    const positiveRate = n ? pos / (n * sets.length) : NaN;
    let kappa = NaN;
    if (n > 0) {
      kappa =
        sets.length === 2
          ? cohenKappa(
              votes.map((r) => r[0]),
              votes.map((r) => r[1]),
            )
          : fleissKappa(votes.map((r) => [r.filter((v) => v === 0).length, r.filter((v) => v === 1).length]));
    }
    return { label, method: sets.length === 2 ? 'cohen' : 'fleiss', kappa, n, observed, positiveRate };
  });
}

/** Landis & Koch's words for κ, to help a reader who does not think in kappas. */
export function kappaWords(k: number): string {
  if (Number.isNaN(k)) return 'undefined';
  if (k < 0) return 'poor';
  if (k <= 0.2) return 'slight';
  if (k <= 0.4) return 'fair';
  if (k <= 0.6) return 'moderate';
  if (k <= 0.8) return 'substantial';
  return 'almost perfect';
}

export type ConsensusRule = { kind: 'majority' } | { kind: 'atLeast'; k: number };

/** A photo × lesion label on which the annotators do not all agree (or the rule is undecided). */
export interface Disagreement {
  image: string;
  label: LesionLabelId;
  /** per annotator (same order as the sets): 0, 1 or null (not rated) */
  votes: (Bit | null)[];
  /** what the rule decides without adjudication (null = undecided) */
  ruled: Bit | null;
}

/** key of an adjudication: image + label */
export const adjKey = (image: string, label: LesionLabelId) => `${label}\u0000${image}`;

/**
 * Decide one label from votes. majority: more than half of the annotators who rated the
 * photo (a tie is undecided). atLeast k: positive when at least k annotators ticked it,
 * negative when so few rated it positive that k can no longer be reached, else undecided
 * (some did not rate it).
 */
export function decide(votes: readonly (Bit | null)[], rule: ConsensusRule): Bit | null {
  const ones = votes.filter((v) => v === 1).length;
  const zeros = votes.filter((v) => v === 0).length;
  const unknown = votes.length - ones - zeros;
  if (rule.kind === 'majority') {
    const rated = ones + zeros;
    if (!rated) return null;
    if (ones * 2 > rated) return 1;
    if (zeros * 2 > rated) return 0;
    return null;
  }
  if (!(Number.isInteger(rule.k) && rule.k >= 1)) throw new RangeError(`k must be a whole number ≥ 1, got ${rule.k}`);
  if (ones >= rule.k) return 1;
  if (ones + unknown < rule.k) return 0;
  return null;
}

/** Every photo (union over the files, in first-seen order). */
export function allImages(sets: readonly AnnotatorSet[]): string[] {
  const seen = new Set<string>();
  for (const s of sets) for (const k of s.labels.keys()) seen.add(k);
  return [...seen];
}

/** Photo × lesion cells where the annotators who rated the photo disagree, or the rule cannot decide. */
export function disagreements(sets: readonly AnnotatorSet[], rule: ConsensusRule): Disagreement[] {
  const out: Disagreement[] = [];
  for (const image of allImages(sets)) {
    for (const label of LESION_LABEL_IDS) {
      const votes = sets.map((s) => s.labels.get(image)?.[label] ?? null);
      const known = votes.filter((v) => v !== null);
      const ruled = decide(votes, rule);
      if (ruled !== null && known.every((v) => v === known[0])) continue;
      out.push({ image, label, votes, ruled });
    }
  }
  return out;
}

export interface ConsensusRow {
  image: string;
  labels: Record<LabelId, Bit | null>;
  /** lesion labels decided by adjudication */
  adjudicated: LesionLabelId[];
}

/** The consensus vector for every photo. Adjudications (adjKey → 0/1) override the rule. */
export function consensus(sets: readonly AnnotatorSet[], rule: ConsensusRule, adjudications: ReadonlyMap<string, Bit> = new Map()): ConsensusRow[] {
  return allImages(sets).map((image) => {
    const labels = { healthy: null } as Record<LabelId, Bit | null>;
    const adjudicated: LesionLabelId[] = [];
    for (const label of LESION_LABEL_IDS) {
      const adj = adjudications.get(adjKey(image, label));
      if (adj !== undefined) {
        labels[label] = adj;
        adjudicated.push(label);
      } else labels[label] = decide(
          sets.map((s) => s.labels.get(image)?.[label] ?? null),
          rule,
        );
    }
    const lesions = LESION_LABEL_IDS.map((l) => labels[l]);
    labels.healthy = lesions.some((v) => v === 1) ? 0 : lesions.every((v) => v === 0) ? 1 : null;
    return { image, labels, adjudicated };
  });
}

export const ruleName = (r: ConsensusRule) => (r.kind === 'majority' ? 'majority' : `at-least-${r.k}`);

/**
 * Consensus labels.csv in the training dataset format. Extra columns: how many annotators'
 * files were combined, the rule, which labels were adjudicated, and the raw votes per label
 * ("1/3" = one of three annotators ticked it). Undecided cells stay empty (unknown).
 */
export function consensusCsv(sets: readonly AnnotatorSet[], rule: ConsensusRule, adjudications: ReadonlyMap<string, Bit> = new Map()): string {
  const rows = consensus(sets, rule, adjudications).map((r) => {
    const votes = LESION_LABEL_IDS.map((l) => {
      const v = sets.map((s) => s.labels.get(r.image)?.[l]).filter((x) => x !== undefined);
      return `${v.filter((x) => x === 1).length}/${v.length}`;
    });
    return [r.image, ...LABEL_IDS.map((l) => (r.labels[l] === null ? '' : r.labels[l]!)), sets.length, ruleName(rule), r.adjudicated.join(' '), ...votes];
  });
  return toCsv(['image', ...LABEL_IDS, 'annotators', 'rule', 'adjudicated', ...LESION_LABEL_IDS.map((l) => `votes_${l}`)], rows);
}
