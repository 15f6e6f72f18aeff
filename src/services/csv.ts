/**
 * CSV for the clinic's register (RFC 4180): fields with a comma, quote, CR or LF are
 * quoted, quotes doubled; CRLF line ends; a UTF-8 BOM so spreadsheet programs read
 * accents and Chinese names correctly. Free-text cells that start like a formula
 * (= + - @ tab CR) get a leading apostrophe: a patient id must never run as a formula.
 */
import { LABEL_IDS, type LabelId } from '../core/types';
import { effectivePositive, effectiveSummary, recordCam, suggestedAction, type ExamRecord } from './records/types';

export type CsvCell = string | number | boolean | null | undefined;

export function csvCell(v: CsvCell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  let s = v;
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: CsvCell[][], bom = true): string {
  return (bom ? '\uFEFF' : '') + rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** Minimal RFC 4180 parser (tests and re-import checks): quoted fields, doubled quotes, CRLF. */
export function parseCsv(text: string): string[][] {
  const t = text.replace(/^\uFEFF/, '');
  const rows: string[][] = [];
  let row: string[] = [];
  let f = '';
  let q = false;
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (q) {
      if (c === '"' && t[i + 1] === '"') (f += '"'), i++;
      else if (c === '"') q = false;
      else f += c;
    } else if (c === '"') q = true;
    else if (c === ',') row.push(f), (f = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && t[i + 1] === '\n') i++;
      row.push(f);
      rows.push(row);
      row = [];
      f = '';
    } else f += c;
  }
  if (f !== '' || row.length) row.push(f), rows.push(row);
  return rows;
}

const round = (p: number | undefined) => (p === undefined ? undefined : Math.round(p * 1000) / 1000);

/** One row per record: identifiers, effective result and action, per-label probability/threshold/verdict, review, model and the explanation map its outlines came from. */
export function recordsCsv(records: readonly ExamRecord[]): string {
  const labels: LabelId[] = [...LABEL_IDS];
  const header: CsvCell[] = [
    'record_id', 'patient_id', 'date_of_birth', 'eye', 'capture_date', 'camera', 'result', 'suggested_action',
    'gradable', 'quality_score', 'analysed_anyway',
    ...labels.flatMap((l) => [`${l}_probability`, `${l}_threshold`, `${l}_model_positive`, `${l}_final_positive`]),
    'reviewed_by', 'reviewed_at', 'model', 'model_version', 'backend', 'explanation_map', 'notes', 'updated_at',
  ];
  const rows: CsvCell[][] = [header];
  for (const r of records) {
    const a = r.analysis;
    const eff = effectivePositive(r);
    rows.push([
      r.id, r.patientId, r.dateOfBirth, r.eye, r.captureDate, r.camera, effectiveSummary(r), suggestedAction(r),
      a?.quality.gradable, round(a?.quality.score), a?.forced,
      ...labels.flatMap((l) => [round(a?.probabilities[l]), a?.labels.find((s) => s.id === l)?.threshold, a?.positive[l], a ? eff[l] : undefined]),
      r.review?.reviewer, r.review?.reviewedAt, a?.modelName, a?.modelVersion, a?.backend, a ? recordCam(a) : undefined, r.notes, r.updatedAt,
    ]);
  }
  return toCsv(rows);
}
