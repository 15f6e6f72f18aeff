/**
 * Exam records on this device, in IndexedDB (via idb). Two object stores — `records`
 * (small, listed often) and `photos` (the bytes) — written in ONE readwrite transaction,
 * so a reload, crash or quota error mid-save leaves either the old or the new version of
 * a record, never a record without its photo.
 */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction } from 'idb';
import { FundusLensError } from '../../core/errors';
import type { ExamRecord, FullRecord, RecordFilter, StoredPhoto } from './types';
import { effectiveSummary } from './types';

export const DB_NAME = 'funduslens-records';
export const DB_VERSION = 1;

interface RecordsSchema extends DBSchema {
  records: { key: string; value: ExamRecord; indexes: { patientId: string; captureDate: string } };
  photos: { key: string; value: StoredPhoto };
}

export type RecordsDb = IDBPDatabase<RecordsSchema>;
type SaveTx = IDBPTransaction<RecordsSchema, ('records' | 'photos')[], 'readwrite'>;

export interface RecordStore {
  /** Saves record + photo in one transaction; returns the record as stored (revision bumped). */
  save(full: FullRecord, hooks?: SaveHooks): Promise<ExamRecord>;
  /** Saves several in one transaction: all or nothing. */
  saveMany(list: FullRecord[]): Promise<ExamRecord[]>;
  /**
   * Imports records as they are (timestamps kept) in one transaction. A record this
   * device already holds in a newer or equal version is left alone, so importing an old
   * export never overwrites later edits.
   */
  importMany(list: FullRecord[]): Promise<{ imported: number; skipped: number }>;
  get(id: string): Promise<FullRecord | undefined>;
  getRecord(id: string): Promise<ExamRecord | undefined>;
  /** All records matching the filter, newest capture first. */
  list(filter?: RecordFilter): Promise<ExamRecord[]>;
  thumbnail(id: string): Promise<Blob | null>;
  delete(id: string): Promise<void>;
  close(): void;
}

/** Test seam: runs inside the save transaction after the record was written, before the photo. */
export interface SaveHooks {
  afterRecordPut?(tx: { abort(): void }): void | Promise<void>;
}

let seq = 0;
/** A record id: time-ordered, unique on this device, no personal data in it. */
export function newRecordId(): string {
  const rnd = typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID().slice(0, 8) : Math.random().toString(36).slice(2, 10);
  return `r${Date.now().toString(36)}-${(seq++).toString(36)}-${rnd}`;
}

function isQuotaError(e: unknown): boolean {
  const n = (e as { name?: string } | null)?.name;
  return n === 'QuotaExceededError' || n === 'NS_ERROR_DOM_QUOTA_REACHED' || (e as { code?: number } | null)?.code === 22;
}

/** Turns IndexedDB failures into errors a clinician can act on. */
export function storageError(e: unknown, what: string): FundusLensError {
  if (e instanceof FundusLensError) return e;
  if (isQuotaError(e))
    return new FundusLensError(
      'storage-full',
      `This device's storage for FundusLens is full, so ${what} was not saved. It is kept in this window: export it to a file now, then free space (export and delete old records) and save again.`,
    );
  const msg = e instanceof Error ? e.message : String(e);
  return new FundusLensError('storage-failed', `Could not save ${what} on this device (${msg}). It is kept in this window: export it to a file.`);
}

async function toStoredPhoto(full: FullRecord): Promise<StoredPhoto> {
  return {
    id: full.record.id,
    original: await full.photo.arrayBuffer(),
    originalType: full.photo.type || full.record.photoType || 'application/octet-stream',
    thumbnail: full.thumbnail ? await full.thumbnail.arrayBuffer() : null,
    thumbnailType: full.thumbnail?.type || 'image/jpeg',
  };
}

function fromStored(record: ExamRecord, p: StoredPhoto): FullRecord {
  return {
    record,
    photo: new Blob([p.original], { type: p.originalType }),
    thumbnail: p.thumbnail ? new Blob([p.thumbnail], { type: p.thumbnailType }) : null,
  };
}

export function matches(r: ExamRecord, f: RecordFilter = {}): boolean {
  if (f.patient && !r.patientId.toLowerCase().includes(f.patient.trim().toLowerCase())) return false;
  if (f.from && r.captureDate < f.from) return false;
  if (f.to && r.captureDate > f.to) return false;
  if (f.eye && r.eye !== f.eye) return false;
  if (f.result && f.result !== 'any' && effectiveSummary(r) !== f.result) return false;
  return true;
}

export function sortRecords(list: ExamRecord[]): ExamRecord[] {
  return list.sort((a, b) => (a.captureDate === b.captureDate ? b.createdAt.localeCompare(a.createdAt) : b.captureDate.localeCompare(a.captureDate)));
}

/** Opens (and creates/upgrades) the records database. `factory` lets tests pass fake-indexeddb. */
export async function openRecordStore(name = DB_NAME): Promise<RecordStore> {
  let db: RecordsDb;
  try {
    db = await openDB<RecordsSchema>(name, DB_VERSION, {
      upgrade(d) {
        const rs = d.createObjectStore('records', { keyPath: 'id' });
        rs.createIndex('patientId', 'patientId');
        rs.createIndex('captureDate', 'captureDate');
        d.createObjectStore('photos', { keyPath: 'id' });
      },
    });
  } catch (e) {
    throw new FundusLensError('storage-failed', `The records database could not be opened (${e instanceof Error ? e.message : String(e)}). Private browsing or a storage setting may block it.`);
  }

  async function write(tx: SaveTx, full: FullRecord, photo: StoredPhoto, hooks?: SaveHooks): Promise<ExamRecord> {
    const rs = tx.objectStore('records');
    const old = await rs.get(full.record.id);
    const now = new Date().toISOString();
    const rec: ExamRecord = {
      ...full.record,
      createdAt: old?.createdAt ?? full.record.createdAt ?? now,
      updatedAt: now,
      revision: Math.max(old?.revision ?? 0, full.record.revision ?? 0) + 1,
    };
    await rs.put(rec);
    if (hooks?.afterRecordPut) await hooks.afterRecordPut(tx);
    await tx.objectStore('photos').put(photo);
    return rec;
  }

  async function run<T>(what: string, body: (tx: SaveTx) => Promise<T>): Promise<T> {
    const tx = db.transaction(['records', 'photos'], 'readwrite');
    try {
      const out = await body(tx);
      await tx.done;
      return out;
    } catch (e) {
      try {
        tx.abort();
      } catch {
        /* already aborted or finished */
      }
      await tx.done.catch(() => undefined);
      throw storageError(e, what);
    }
  }

  return {
    async save(full, hooks) {
      // Read the bytes before the transaction: awaiting anything but IDB inside it would auto-commit it half-done.
      const photo = await toStoredPhoto(full);
      return run('the record', (tx) => write(tx, full, photo, hooks));
    },
    async saveMany(list) {
      const photos = await Promise.all(list.map(toStoredPhoto));
      return run(list.length === 1 ? 'the record' : `the ${list.length} records`, async (tx) => {
        const out: ExamRecord[] = [];
        for (let i = 0; i < list.length; i++) out.push(await write(tx, list[i], photos[i]));
        return out;
      });
    },
    async importMany(list) {
      const photos = await Promise.all(list.map(toStoredPhoto));
      return run(`the ${list.length} imported record(s)`, async (tx) => {
        let imported = 0;
        let skipped = 0;
        for (let i = 0; i < list.length; i++) {
          const r = list[i].record;
          const old = await tx.objectStore('records').get(r.id);
          if (old && old.updatedAt >= r.updatedAt) {
            skipped++;
            continue;
          }
          await tx.objectStore('records').put({ ...r, revision: Math.max(r.revision ?? 0, old?.revision ?? 0) });
          await tx.objectStore('photos').put(photos[i]);
          imported++;
        }
        return { imported, skipped };
      });
    },
    async get(id) {
      const tx = db.transaction(['records', 'photos'], 'readonly');
      const [r, p] = await Promise.all([tx.objectStore('records').get(id), tx.objectStore('photos').get(id)]);
      await tx.done;
      if (!r) return undefined;
      if (!p) throw new FundusLensError('record-not-found', `The photo of record ${id} is missing.`);
      return fromStored(r, p);
    },
    getRecord: (id) => db.get('records', id),
    async list(filter) {
      const all = await db.getAll('records');
      return sortRecords(all.filter((r) => matches(r, filter)));
    },
    async thumbnail(id) {
      const p = await db.get('photos', id);
      if (!p) return null;
      const bytes = p.thumbnail ?? p.original;
      return new Blob([bytes], { type: p.thumbnail ? p.thumbnailType : p.originalType });
    },
    async delete(id) {
      const tx = db.transaction(['records', 'photos'], 'readwrite');
      await Promise.all([tx.objectStore('records').delete(id), tx.objectStore('photos').delete(id), tx.done]);
    },
    close: () => db.close(),
  };
}

/** Asks the browser not to evict our data under storage pressure; false when refused/unsupported. */
export async function requestPersistentStorage(): Promise<boolean> {
  try {
    if (typeof navigator === 'undefined' || !navigator.storage?.persist) return false;
    if (await navigator.storage.persisted?.()) return true;
    return await navigator.storage.persist();
  } catch {
    return false;
  }
}

export interface StorageUsage {
  usage: number;
  quota: number;
  persisted: boolean;
}

export async function storageUsage(): Promise<StorageUsage | null> {
  try {
    if (typeof navigator === 'undefined' || !navigator.storage?.estimate) return null;
    const e = await navigator.storage.estimate();
    const persisted = (await navigator.storage.persisted?.()) ?? false;
    return { usage: e.usage ?? 0, quota: e.quota ?? 0, persisted };
  } catch {
    return null;
  }
}
