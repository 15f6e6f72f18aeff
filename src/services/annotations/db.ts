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
  /** photos labelled (complete), as of the last change */
  done?: number;
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
  updateSession(id: string, patch: Partial<Pick<SessionMeta, 'annotator' | 'index' | 'done'>>): Promise<void>;
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

const PHOTO_BATCH = 16;
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
  async function removePhotos(sessionId: string): Promise<void> {
    const tx = db.transaction('photos', 'readwrite');
    const keys = await tx.store.index('session').getAllKeys(IDBKeyRange.only(sessionId));
    await Promise.all([...keys.map((k) => tx.store.delete(k)), tx.done]);
  }

  return {
    async listSessions() {
      return (await db.getAll('sessions')).sort((a, b) => b.updatedAt - a.updatedAt);
    },
    async createSession(annotator, files) {
      const now = Date.now();
      const id = newId('s');
      const photos: PhotoMeta[] = files.map((f, order) => ({ id: `${id}/${order}`, sessionId: id, order, name: f.name }));
      try {
        // Photos go in small batches so a set of hundreds of camera files never sits in memory
        // at once; the session row is written last, so a failure leaves no half-open set.
        for (let i = 0; i < files.length; i += PHOTO_BATCH) {
          const batch = await Promise.all(
            photos.slice(i, i + PHOTO_BATCH).map(async (p, k) => ({ ...p, bytes: await files[i + k].blob.arrayBuffer(), type: files[i + k].blob.type })),
          );
          // read before the transaction opens: an IDB transaction closes on an await of anything else
          const tx = db.transaction('photos', 'readwrite');
          await Promise.all([...batch.map((p) => tx.store.put(p)), tx.done]);
        }
        const session: SessionMeta = { id, title: files.length ? files[0].name : '', annotator, createdAt: now, updatedAt: now, count: files.length, done: 0, index: 0 };
        const records: AnnotationRecord[] = photos.map((p) => ({ id: p.id, sessionId: id, image: p.name, labels: null, ms: 0 }));
        const tx = db.transaction(['sessions', 'records'], 'readwrite');
        await Promise.all([tx.objectStore('sessions').put(session), ...records.map((r) => tx.objectStore('records').put(r)), tx.done]);
        return { session, photos, records };
      } catch (e) {
        await removePhotos(id).catch(() => {});
        throw storageError(e, 'the opened photos');
      }
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
