/**
 * Element annotation (Jiang et al. §II.A): every photo gets a 0/1 vector over the
 * pre-defined elements — here the five labels of the training dataset format. This file holds
 * the per-photo record, the tick rules and the labels.csv export; it is plain data (no DOM, no
 * IndexedDB) so the store, the persistence layer and tests share it.
 *
 * Healthy rule (the dataset reader's, training/src/data/dataset.ts): healthy = 1 ⇔ no lesion.
 * We ENFORCE it while ticking — ticking Healthy clears the lesions, ticking a lesion clears
 * Healthy — so a stored vector can be inconsistent only when nothing at all is ticked; such a
 * photo counts as "not labelled yet" and is left out of the export with a warning.
 */
import { LABEL_IDS, LESION_LABEL_IDS, type LabelId } from '../../core/types';
import { toCsv } from './csv';

export type Bit = 0 | 1;
export type LabelVector = Record<LabelId, Bit>;

/** What the model said about a photo, kept with the record so an audit can see anchoring. */
export interface Suggestion {
  positive: Record<LabelId, boolean>;
  probabilities: Record<LabelId, number>;
  /** model name@version */
  model: string;
}

/** One photo's annotation by one annotator. */
export interface AnnotationRecord {
  /** = the photo's id in the session */
  id: string;
  sessionId: string;
  /** file name as opened: the `image` cell of labels.csv */
  image: string;
  /** the annotator's ticks; null until they first tick (or accept a suggestion) */
  labels: LabelVector | null;
  /**
   * the annotator judged the photo ungradable (too dark, blurred, no retina): exported with
   * gradable=0, which training and evaluation leave out; ticks, if any, are kept as seen
   */
  ungradable?: boolean;
  /** the model's suggestion, when suggestions were on while this photo was open */
  suggestion?: Suggestion;
  /** epoch ms of the first and the latest tick */
  firstAt?: number;
  updatedAt?: number;
  /** time this photo was on screen, summed over visits (ms) */
  ms: number;
}

export const EXTRA_COLUMNS = ['gradable', 'annotator', 'labelled_at', 'updated_at', 'seconds', 'suggested', 'matches_suggestion'] as const;
export const LABELS_HEADER = ['image', ...LABEL_IDS, ...EXTRA_COLUMNS] as const;

export const zeroVector = (): LabelVector => ({ ma: 0, hm: 0, hex: 0, cws: 0, healthy: 0 });

/**
 * Toggle one label, keeping healthy = 1 ⇔ no lesion: Healthy on clears every lesion, a lesion
 * on clears Healthy. Turning the last tick off leaves an all-zero vector ("incomplete").
 */
export function toggleLabel(v: LabelVector | null, id: LabelId): LabelVector {
  const cur = v ?? zeroVector();
  const on = cur[id] === 0;
  if (id === 'healthy') return on ? { ma: 0, hm: 0, hex: 0, cws: 0, healthy: 1 } : { ...cur, healthy: 0 };
  return { ...cur, [id]: on ? 1 : 0, healthy: on ? 0 : cur.healthy };
}

export type LabelStatus = 'unlabelled' | 'complete' | 'incomplete' | 'inconsistent';

/** complete = Healthy alone, or at least one lesion without Healthy. */
export function labelStatus(v: LabelVector | null | undefined): LabelStatus {
  if (!v) return 'unlabelled';
  const lesions = LESION_LABEL_IDS.filter((l) => v[l] === 1).length;
  if (v.healthy === 1) return lesions ? 'inconsistent' : 'complete';
  return lesions ? 'complete' : 'incomplete';
}

/** Finished with this photo: a complete label vector, or marked ungradable. */
export const isDone = (r: AnnotationRecord | undefined): boolean => !!r && (r.ungradable === true || labelStatus(r.labels) === 'complete');

/** The suggestion as a label vector (healthy made consistent with the lesions). */
export function suggestionVector(s: Suggestion): LabelVector {
  const v = zeroVector();
  for (const l of LESION_LABEL_IDS) v[l] = s.positive[l] ? 1 : 0;
  v.healthy = LESION_LABEL_IDS.some((l) => v[l] === 1) ? 0 : 1;
  return v;
}

export const sameVector = (a: LabelVector, b: LabelVector): boolean => LABEL_IDS.every((l) => a[l] === b[l]);

const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString());

export interface ExportResult {
  /** the CSV text (UTF-8, LF, header first) */
  csv: string;
  rows: number;
  /** photos left out, with why (unlabelled, incomplete, duplicate name) */
  skipped: { image: string; reason: LabelStatus | 'duplicate' | 'edge-space' }[];
}

/**
 * labels.csv in the training dataset format (`image,ma,hm,hex,cws,healthy`) plus `gradable`
 * (0 = the annotator marked the photo ungradable; training and evaluation leave such rows out), the
 * annotator, ISO-8601 timestamps, seconds on the photo, the model's suggestion ("" when none
 * was shown, "none" when it found nothing) and whether the final labels equal it (an audit
 * of anchoring: a set where nearly every photo matches the model deserves a second look). Training
 * keeps unknown columns as `extra` and ignores them. Records keep their given order.
 */
export function exportLabelsCsv(records: readonly AnnotationRecord[], annotator: string): ExportResult {
  const rows: (string | number)[][] = [];
  const skipped: ExportResult['skipped'] = [];
  const seen = new Set<string>();
  for (const r of records) {
    const status = labelStatus(r.labels);
    if (status !== 'complete' && !r.ungradable) {
      skipped.push({ image: r.image, reason: status });
      continue;
    }
    // the dataset reader trims the image cell, so " x.jpg" would name a file that does not exist
    if (r.image !== r.image.trim()) {
      skipped.push({ image: r.image, reason: 'edge-space' });
      continue;
    }
    if (seen.has(r.image)) {
      skipped.push({ image: r.image, reason: 'duplicate' });
      continue;
    }
    seen.add(r.image);
    // an ungradable photo without a complete vector is written with unknown (empty) labels
    const v: Record<LabelId, Bit | ''> = status === 'complete' ? r.labels! : { ma: '', hm: '', hex: '', cws: '', healthy: '' };
    const suggested = r.suggestion ? LESION_LABEL_IDS.filter((l) => r.suggestion!.positive[l]).join(' ') || 'none' : '';
    rows.push([
      r.image,
      ...LABEL_IDS.map((l) => v[l]),
      r.ungradable ? 0 : 1,
      annotator,
      iso(r.firstAt),
      iso(r.updatedAt),
      (r.ms / 1000).toFixed(1),
      suggested,
      r.suggestion && status === 'complete' ? (sameVector(r.labels!, suggestionVector(r.suggestion)) ? 1 : 0) : '',
    ]);
  }
  return { csv: toCsv(LABELS_HEADER, rows), rows: rows.length, skipped };
}
