/**
 * One or many records as ONE self-describing JSON file the app imports again (photos
 * inline as base64). JSON rather than a zip: no extra library, readable in any text
 * editor, and a clinic can archive it as is.
 */
import { FundusLensError } from '../../core/errors';
import type { ExamRecord, FullRecord } from './types';

export const EXPORT_FORMAT = 'funduslens-records';
export const EXPORT_VERSION = 1;
export const EXPORT_EXTENSION = '.funduslens.json';

interface ExportedPhoto {
  type: string;
  base64: string;
}
interface ExportedRecord {
  record: ExamRecord;
  photo: ExportedPhoto;
  thumbnail: ExportedPhoto | null;
}
export interface ExportFile {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  exportedAt: string;
  app: string;
  records: ExportedRecord[];
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) s += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(s);
}
function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

async function exportPhoto(b: Blob): Promise<ExportedPhoto> {
  return { type: b.type || 'application/octet-stream', base64: toBase64(new Uint8Array(await b.arrayBuffer())) };
}

/** Serialises records (with photos) into the export file's text. */
export async function exportRecords(list: FullRecord[], now = new Date()): Promise<string> {
  const records: ExportedRecord[] = [];
  for (const f of list) records.push({ record: f.record, photo: await exportPhoto(f.photo), thumbnail: f.thumbnail ? await exportPhoto(f.thumbnail) : null });
  const file: ExportFile = { format: EXPORT_FORMAT, version: EXPORT_VERSION, exportedAt: now.toISOString(), app: 'FundusLens', records };
  return JSON.stringify(file);
}

export function exportFileName(list: { record: ExamRecord }[], now = new Date()): string {
  const day = now.toISOString().slice(0, 10);
  const one = list.length === 1 ? `${safeName(list[0].record.patientId)}-${list[0].record.eye}-${list[0].record.captureDate}` : `${list.length}-records`;
  return `funduslens-${one}-${day}${EXPORT_EXTENSION}`;
}

/** File-name-safe version of free text (patient ids may contain anything). */
export function safeName(s: string): string {
  return s.replace(/[^\p{L}\p{N}._-]+/gu, '_').replace(/^[._]+|[._]+$/g, '').slice(0, 60) || 'record';
}

const isStr = (v: unknown): v is string => typeof v === 'string';

function checkRecord(r: unknown, i: number): ExamRecord {
  const o = r as Partial<ExamRecord> | null;
  const bad = (what: string) => new FundusLensError('records-invalid', `Record ${i + 1} in the file is not a FundusLens record (${what}).`);
  if (!o || typeof o !== 'object') throw bad('not an object');
  if (!isStr(o.id) || !o.id) throw bad('no id');
  if (!isStr(o.patientId)) throw bad('no patient identifier');
  if (o.eye !== 'OD' && o.eye !== 'OS') throw bad('eye must be OD or OS');
  if (!isStr(o.captureDate) || !/^\d{4}-\d{2}-\d{2}$/.test(o.captureDate)) throw bad('capture date');
  if (o.analysis !== null && typeof o.analysis !== 'object') throw bad('analysis');
  return o as ExamRecord;
}

/** Parses an export file back into records; throws records-invalid with what is wrong. */
export function parseExport(text: string, fileName?: string): FullRecord[] {
  let data: Partial<ExportFile>;
  try {
    data = JSON.parse(text) as Partial<ExportFile>;
  } catch {
    throw new FundusLensError('records-invalid', `${fileName ?? 'This file'} is not a FundusLens records file (not JSON).`, fileName);
  }
  if (!data || data.format !== EXPORT_FORMAT) throw new FundusLensError('records-invalid', `${fileName ?? 'This file'} is not a FundusLens records file.`, fileName);
  if (data.version !== EXPORT_VERSION)
    throw new FundusLensError('records-invalid', `${fileName ?? 'This file'} was written by a newer FundusLens (format version ${String(data.version)}). Update the app and import again.`, fileName);
  if (!Array.isArray(data.records)) throw new FundusLensError('records-invalid', 'The file has no records.', fileName);
  return data.records.map((e, i) => {
    const record = checkRecord(e?.record, i);
    if (!e.photo || !isStr(e.photo.base64)) throw new FundusLensError('records-invalid', `Record ${i + 1} has no photo.`, fileName);
    let photo: Blob;
    let thumbnail: Blob | null = null;
    try {
      photo = new Blob([fromBase64(e.photo.base64)], { type: e.photo.type });
      if (e.thumbnail && isStr(e.thumbnail.base64)) thumbnail = new Blob([fromBase64(e.thumbnail.base64)], { type: e.thumbnail.type });
    } catch {
      throw new FundusLensError('records-invalid', `Record ${i + 1}: the photo data is damaged.`, fileName);
    }
    return { record, photo, thumbnail };
  });
}
