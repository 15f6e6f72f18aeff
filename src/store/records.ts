/**
 * Records slice: the history list as last read from IndexedDB, its filter, records kept
 * in memory after a failed save (so nothing is lost: the user can export them), and the
 * "unsaved edits" flag the update prompt respects. IndexedDB itself is behind
 * services/records (this slice stays plain state, testable without a database).
 */
import type { StoreApi } from 'zustand/vanilla';
import type { ExamRecord, FullRecord, RecordFilter } from '../services/records/types';
import type { StorageUsage } from '../services/records/db';
import type { AppErrorInfo, AppState } from './index';

export interface RecordsState {
  list: ExamRecord[];
  status: 'idle' | 'loading' | 'ready' | 'error';
  error?: AppErrorInfo;
  filter: RecordFilter;
  /** records whose save failed (storage full…): kept here until exported or saved */
  unsaved: FullRecord[];
  /** a record form or review has edits not yet saved: no app update may reload under it */
  dirty: boolean;
  usage: StorageUsage | null;
  /** photo ids (queue) already saved as records, -> record id */
  savedPhotos: Record<string, string>;
  /** queue photo ids that belong to the batch-screening table, in the order added */
  batch: string[];
}

export interface RecordsSlice {
  records: RecordsState;
  setRecords(patch: Partial<RecordsState>): void;
  setRecordFilter(f: RecordFilter): void;
  keepUnsaved(r: FullRecord): void;
  dropUnsaved(id: string): void;
  setRecordsDirty(dirty: boolean): void;
  markPhotoSaved(photoId: string, recordId: string): void;
  setBatch(ids: string[]): void;
}

type Set = StoreApi<AppState>['setState'];
type Get = StoreApi<AppState>['getState'];

export const recordsSlice = (set: Set, get: Get): RecordsSlice => ({
  records: { list: [], status: 'idle', filter: {}, unsaved: [], dirty: false, usage: null, savedPhotos: {}, batch: [] },
  setRecords(patch) {
    set((s) => ({ records: { ...s.records, ...patch } }));
  },
  setRecordFilter(filter) {
    set((s) => ({ records: { ...s.records, filter } }));
  },
  keepUnsaved(r) {
    set((s) => ({ records: { ...s.records, unsaved: [...s.records.unsaved.filter((u) => u.record.id !== r.record.id), r] } }));
  },
  dropUnsaved(id) {
    set((s) => ({ records: { ...s.records, unsaved: s.records.unsaved.filter((u) => u.record.id !== id) } }));
  },
  setRecordsDirty(dirty) {
    set((s) => ({ records: { ...s.records, dirty } }));
    // an update was deferred while the form had edits: apply it once they are saved or dropped
    const { update, busyId, records } = get();
    if (!dirty && !records.unsaved.length && update.deferred && update.apply && !busyId) update.apply();
  },
  markPhotoSaved(photoId, recordId) {
    set((s) => ({ records: { ...s.records, savedPhotos: { ...s.records.savedPhotos, [photoId]: recordId } } }));
  },
  setBatch(batch) {
    set((s) => ({ records: { ...s.records, batch } }));
  },
});
