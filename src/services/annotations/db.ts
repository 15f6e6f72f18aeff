/**
 * Annotation sessions on this device, in IndexedDB (via idb), written as they happen so a
 * reload, a crash or a closed lid loses at most the tick being made. Stores:
 *   sessions  one per opened set of photos (annotator, position, counts)
 *   photos    the photo bytes (ArrayBuffer + type: structured-clones everywhere, unlike File)
 *   records   one AnnotationRecord per photo (key = photo id)
 *   prefs     app-wide annotation settings (suggestions shown or hidden)
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { FundusLensError } from '../../core/errors';
import type { AnnotationRecord } from './labels';

export const ANNOTATION_DB = 'funduslens-annotations';

export interface SessionMeta {
  id: string;
  /** shown in the session list: first file name + count */
  title: string;
  annotator: string;
  createdAt: number;
  updatedAt: number;
  count: number;
  /** index of the photo on screen when last seen */
  index: number;
}

export interface PhotoMeta {
  id: string;
  sessionId: string;
  order: number;
  name: string;
}

interface StoredPhoto extends PhotoMeta {
  bytes: ArrayBuffer;
  type: string;
}

export interface AnnotationPrefs {
  showSuggestions: boolean;
}
export const DEFAULT_PREFS: AnnotationPrefs = { showSuggestions: false };

interface Schema extends DBSchema {
  sessions: { key: string; value: SessionMeta };
  photos: { key: string; value: StoredPhoto; indexes: { session: string } };
  records: { key: string; value: AnnotationRecord; indexes: { session: string } };
  prefs: { key: string; value: AnnotationPrefs };
}

export interface AnnotationDb {
  listSessions(): Promise<SessionMeta[]>;
  /** stores the photos and an empty record per photo in one transaction */
  createSession(annotator: string, files: readonly { name: string; blob: Blob }[]): Promise<{ session: SessionMeta; photos: PhotoMeta[]; records: AnnotationRecord[] }>;
  loadSession(id: string): Promise<{ session: SessionMeta; photos: PhotoMeta[]; records: AnnotationRecord[] } | undefined>;
  photoBlob(photoId: string): Promise<Blob | undefined>;
  putRecord(r: AnnotationRecord): Promise<void>;
  updateSession(id: string, patch: Partial<Pick<SessionMeta, 'annotator' | 'index'>>): Promise<void>;
  deleteSession(id: string): Promise<void>;
  getPrefs(): Promise<AnnotationPrefs>;
  setPrefs(p: AnnotationPrefs): Promise<void>;
  close(): void;
}

function storageError(e: unknown, what: string): FundusLensError {
  if (e instanceof FundusLensError) return e;
  const name = (e as { name?: string } | null)?.name;
  if (name === 'QuotaExceededError')
    return new FundusLensError('storage-full', `This device's storage is full, so ${what} was not saved. Export labels.csv now, then delete finished annotation sets.`);
  return new FundusLensError('storage-failed', `Could not save ${what} on this device (${e instanceof Error ? e.message : String(e)}). Export labels.csv to keep your work.`);
}

let seq = 0;
const newId = (p: string) => `${p}${Date.now().toString(36)}-${(seq++).toString(36)}-${Math.random().toString(36).slice(2, 7)}`;

/** Opens (creating on first use) the annotation database (tests pass their own name, with fake-indexeddb). */
export async function openAnnotationDb(name = ANNOTATION_DB): Promise<AnnotationDb> {
  const db: IDBPDatabase<Schema> = await openDB<Schema>(name, 1, {
    upgrade(d) {
      d.createObjectStore('sessions', { keyPath: 'id' });
      d.createObjectStore('photos', { keyPath: 'id' }).createIndex('session', 'sessionId');
      d.createObjectStore('records', { keyPath: 'id' }).createIndex('session', 'sessionId');
      d.createObjectStore('prefs');
    },
  });

  const strip = ({ bytes: _b, type: _t, ...meta }: StoredPhoto): PhotoMeta => meta;

  return {
    async listSessions() {
      return (await db.getAll('sessions')).sort((a, b) => b.updatedAt - a.updatedAt);
    },
    async createSession(annotator, files) {
      const now = Date.now();
      const id = newId('s');
      // read every file before the transaction opens: an IDB transaction closes on an await of anything else
      const stored: StoredPhoto[] = await Promise.all(
        files.map(async (f, order) => ({ id: `${id}/${order}`, sessionId: id, order, name: f.name, bytes: await f.blob.arrayBuffer(), type: f.blob.type })),
      );
      const session: SessionMeta = { id, title: files.length ? files[0].name : '', annotator, createdAt: now, updatedAt: now, count: files.length, index: 0 };
      const records: AnnotationRecord[] = stored.map((p) => ({ id: p.id, sessionId: id, image: p.name, labels: null, ms: 0 }));
      try {
        const tx = db.transaction(['sessions', 'photos', 'records'], 'readwrite');
        await Promise.all([tx.objectStore('sessions').put(session), ...stored.map((p) => tx.objectStore('photos').put(p)), ...records.map((r) => tx.objectStore('records').put(r)), tx.done]);
      } catch (e) {
        throw storageError(e, 'the opened photos');
      }
      return { session, photos: stored.map(strip), records };
    },
    async loadSession(id) {
      const session = await db.get('sessions', id);
      if (!session) return undefined;
      const tx = db.transaction(['photos', 'records']);
      // photo metadata without pulling every photo's bytes into memory at once
      const photos: PhotoMeta[] = [];
      let cur = await tx.objectStore('photos').index('session').openCursor(IDBKeyRange.only(id));
      while (cur) {
        photos.push(strip(cur.value));
        cur = await cur.continue();
      }
      const records = await tx.objectStore('records').index('session').getAll(IDBKeyRange.only(id));
      await tx.done;
      photos.sort((a, b) => a.order - b.order);
      const byId = new Map(records.map((r) => [r.id, r]));
      return { session, photos, records: photos.map((p) => byId.get(p.id) ?? { id: p.id, sessionId: id, image: p.name, labels: null, ms: 0 }) };
    },
    async photoBlob(photoId) {
      const p = await db.get('photos', photoId);
      return p ? new Blob([p.bytes], { type: p.type }) : undefined;
    },
    async putRecord(r) {
      try {
        const tx = db.transaction(['records', 'sessions'], 'readwrite');
        const s = await tx.objectStore('sessions').get(r.sessionId);
        await tx.objectStore('records').put(r);
        if (s) await tx.objectStore('sessions').put({ ...s, updatedAt: Date.now() });
        await tx.done;
      } catch (e) {
        throw storageError(e, `the labels of ${r.image}`);
      }
    },
    async updateSession(id, patch) {
      try {
        const tx = db.transaction('sessions', 'readwrite');
        const s = await tx.store.get(id);
        if (s) await tx.store.put({ ...s, ...patch, updatedAt: Date.now() });
        await tx.done;
      } catch (e) {
        throw storageError(e, 'the annotation session');
      }
    },
    async deleteSession(id) {
      const tx = db.transaction(['sessions', 'photos', 'records'], 'readwrite');
      const range = IDBKeyRange.only(id);
      const keys = await tx.objectStore('photos').index('session').getAllKeys(range);
      const rkeys = await tx.objectStore('records').index('session').getAllKeys(range);
      await Promise.all([tx.objectStore('sessions').delete(id), ...keys.map((k) => tx.objectStore('photos').delete(k)), ...rkeys.map((k) => tx.objectStore('records').delete(k)), tx.done]);
    },
    async getPrefs() {
      return { ...DEFAULT_PREFS, ...((await db.get('prefs', 'prefs')) ?? {}) };
    },
    async setPrefs(p) {
      await db.put('prefs', p, 'prefs');
    },
    close() {
      db.close();
    },
  };
}
