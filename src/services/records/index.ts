/**
 * The app's records service: one record database per page, bound to the app store.
 * Components call these; every failure is a FundusLensError with an actionable message,
 * and a record whose save failed stays in the store (records.unsaved) for export.
 */
import { FundusLensError } from '../../core/errors';
import { downloadBlob } from '../download';
import type { AnalysisResult, LabelSpec } from '../../core/types';
import { appStore } from '../../store';
import { recordsCsv } from '../csv';
import { newRecordId, openRecordStore, requestPersistentStorage, storageUsage, type RecordStore } from './db';
import { exportFileName, exportRecords, parseExport } from './export';
import { toRecordAnalysis, type ClinicianReview, type ExamRecord, type FullRecord } from './types';

export * from './types';
export { storageUsage, requestPersistentStorage } from './db';

/**
 * Closing or reloading the tab with unsaved record edits, or with records that failed to
 * save (kept only in memory), asks the browser's "leave this page?" question first.
 */
export function unsavedWork(): boolean {
  const r = appStore.getState().records;
  return r.dirty || r.unsaved.length > 0;
}
if (typeof window !== 'undefined')
  window.addEventListener('beforeunload', (e) => {
    if (unsavedWork()) e.preventDefault();
  });

let store: Promise<RecordStore> | null = null;
export function getRecordStore(): Promise<RecordStore> {
  if (!store) store = openRecordStore().catch((e: unknown) => ((store = null), Promise.reject(e)));
  return store;
}

const errInfo = (e: unknown) =>
  e instanceof FundusLensError ? { code: e.code, message: e.message, file: e.file } : { code: 'storage-failed', message: e instanceof Error ? e.message : String(e) };

/** Reloads the history list with the current filter, and the storage usage. */
export async function refreshRecords(): Promise<void> {
  const s = appStore.getState();
  s.setRecords({ status: 'loading' });
  try {
    const db = await getRecordStore();
    const list = await db.list(appStore.getState().records.filter);
    appStore.getState().setRecords({ list, status: 'ready', error: undefined, usage: await storageUsage() });
  } catch (e) {
    appStore.getState().setRecords({ status: 'error', error: errInfo(e) });
  }
}

/** A small JPEG preview for lists (null where the browser cannot draw off-screen). */
export async function makeThumbnail(photo: Blob, maxSide = 160): Promise<Blob | null> {
  try {
    if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas === 'undefined') return null;
    const bmp = await createImageBitmap(photo);
    const k = Math.min(1, maxSide / Math.max(bmp.width, bmp.height));
    const c = new OffscreenCanvas(Math.max(1, Math.round(bmp.width * k)), Math.max(1, Math.round(bmp.height * k)));
    c.getContext('2d')!.drawImage(bmp, 0, 0, c.width, c.height);
    bmp.close();
    return await c.convertToBlob({ type: 'image/jpeg', quality: 0.8 });
  } catch {
    return null;
  }
}

/** What the exam form edits: the record's patient and capture fields. */
export type ExamForm = Pick<ExamRecord, 'patientId' | 'dateOfBirth' | 'eye' | 'captureDate' | 'camera' | 'notes'>;

/**
 * The record form as typed: the eye is '' until the user picks one. A silent default would file a
 * left eye as the right one whenever nobody looked at the radio buttons (laterality errors are a
 * known hazard of eye records), so the first record of a patient asks.
 */
export type ExamFormDraft = Omit<ExamForm, 'eye'> & { eye: ExamForm['eye'] | '' };

/** The first invalid field of a draft (its i18n key under records.invalid), or null when it can be saved. */
export function validateExamForm(f: ExamFormDraft): string | null {
  if (!f.patientId.trim()) return 'patientId';
  if (f.eye !== 'OD' && f.eye !== 'OS') return 'eye';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(f.captureDate)) return 'captureDate';
  if (f.dateOfBirth && (!/^\d{4}-\d{2}-\d{2}$/.test(f.dateOfBirth) || f.dateOfBirth > f.captureDate)) return 'dateOfBirth';
  return null;
}

/** Builds a record from an analysed (or not yet analysed) photo and the form. */
export async function buildRecord(
  form: ExamForm,
  photo: { file: Blob; name: string; width: number; height: number },
  result: AnalysisResult | undefined,
  labels: LabelSpec[],
  model?: { name: string; version: string },
): Promise<FullRecord> {
  const now = new Date().toISOString();
  const record: ExamRecord = {
    id: newRecordId(),
    patientId: form.patientId.trim(),
    dateOfBirth: form.dateOfBirth || undefined,
    eye: form.eye,
    captureDate: form.captureDate,
    camera: form.camera?.trim() || undefined,
    notes: form.notes?.trim() || undefined,
    photoName: photo.name,
    photoType: photo.file.type,
    photoWidth: photo.width,
    photoHeight: photo.height,
    analysis: result ? toRecordAnalysis(result, labels, model) : null,
    createdAt: now,
    updatedAt: now,
    revision: 0,
  };
  return { record, photo: photo.file, thumbnail: await makeThumbnail(photo.file) };
}

let persistAsked = false;
/** Saves one record; on failure keeps it in memory (records.unsaved) and rethrows the typed error. */
export async function saveRecord(full: FullRecord): Promise<ExamRecord> {
  try {
    const db = await getRecordStore();
    const saved = await db.save(full);
    appStore.getState().dropUnsaved(full.record.id);
    if (!persistAsked) {
      persistAsked = true;
      void requestPersistentStorage().then(() => refreshRecords());
    } else void refreshRecords();
    return saved;
  } catch (e) {
    appStore.getState().keepUnsaved(full);
    throw e instanceof FundusLensError ? e : new FundusLensError('storage-failed', errInfo(e).message);
  }
}

export async function loadRecord(id: string): Promise<FullRecord> {
  const db = await getRecordStore();
  const r = await db.get(id);
  if (!r) throw new FundusLensError('record-not-found', `Record ${id} is not on this device (deleted, or saved in another browser).`);
  return r;
}

export async function saveReview(id: string, review: ClinicianReview): Promise<ExamRecord> {
  const full = await loadRecord(id);
  return saveRecord({ ...full, record: { ...full.record, review } });
}

export async function deleteRecord(id: string): Promise<void> {
  await (await getRecordStore()).delete(id);
  await refreshRecords();
}

export { downloadBlob } from '../download';

export async function exportToFile(list: FullRecord[]): Promise<void> {
  const text = await exportRecords(list);
  downloadBlob(new Blob([text], { type: 'application/json' }), exportFileName(list));
}

export async function exportRecordIds(ids: string[]): Promise<void> {
  const db = await getRecordStore();
  const list: FullRecord[] = [];
  for (const id of ids) {
    const r = await db.get(id);
    if (r) list.push(r);
  }
  await exportToFile(list);
}

/** Imports an export file (all its records in one transaction); newer local versions are kept. */
export async function importRecordsFile(file: Blob & { name?: string }): Promise<{ imported: number; skipped: number }> {
  const list = parseExport(await file.text(), file.name);
  const db = await getRecordStore();
  const n = await db.importMany(list);
  await refreshRecords();
  return n;
}

export function downloadCsv(list: ExamRecord[], name = `funduslens-register-${new Date().toISOString().slice(0, 10)}.csv`): void {
  downloadBlob(new Blob([recordsCsv(list)], { type: 'text/csv;charset=utf-8' }), name);
}

/** Labels and model identity of the loaded model (or of metadata.json when the worker is not up). */
export function currentModel(): { labels: LabelSpec[]; model?: { name: string; version: string } } {
  const s = appStore.getState();
  const md = s.model.info?.metadata ?? s.card.metadata;
  return { labels: md?.labels ?? [], model: md ? { name: md.name, version: md.version } : undefined };
}

export const today = (): string => {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};
