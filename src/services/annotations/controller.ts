/**
 * Drives annotation: opens/resumes sets of photos, writes every change of the annotate
 * slice to IndexedDB as it happens (serialised, so a later tick never lands before an
 * earlier one), asks the model for suggestions when they are switched on, and exports
 * labels.csv. Components call this; the slice stays pure.
 */
import type { StoreApi } from 'zustand/vanilla';
import type { AppState } from '../../store';
import type { AnnotationDb } from './db';
import { exportLabelsCsv, isDone, type ExportResult, type Suggestion } from './labels';

export interface ControllerOptions {
  store: StoreApi<AppState>;
  db: () => Promise<AnnotationDb>;
  /** model suggestion for one photo (the app: analysis worker, `positive`) */
  suggest?: (photoId: string, photo: Blob) => Promise<Suggestion>;
}

export interface AnnotationController {
  /** load prefs and sessions once; resume the latest session unless told not to */
  init(o?: { resume?: boolean }): Promise<void>;
  /** load prefs and sessions again */
  reload(o?: { resume?: boolean }): Promise<void>;
  startSession(annotator: string, files: readonly { name: string; blob: Blob }[]): Promise<{ duplicates: string[] }>;
  resume(id: string): Promise<void>;
  deleteSession(id: string): Promise<void>;
  /** back to the session list (the set stays stored) */
  closeSession(): void;
  photoBlob(photoId: string): Promise<Blob | undefined>;
  exportCsv(): ExportResult;
  setShowSuggestions(v: boolean): Promise<void>;
  /** resolves when every change so far is in IndexedDB */
  flush(): Promise<void>;
  stop(): void;
}

export function createAnnotationController(o: ControllerOptions): AnnotationController {
  const { store } = o;
  let dbp: Promise<AnnotationDb> | null = null;
  const db = () => (dbp ??= o.db());
  let chain: Promise<void> = Promise.resolve();
  const ann = () => store.getState().ann;
  const fail = (e: unknown) => ann().setStatus('error', e instanceof Error ? e.message : String(e));
  const enqueue = (f: (d: AnnotationDb) => Promise<void>) => {
    chain = chain.then(async () => f(await db())).catch(fail);
  };

  const unsub = store.subscribe((s, prev) => {
    const a = s.annotate;
    const b = prev.annotate;
    if (a.session && b.session && a.session.id === b.session.id) {
      if (a.records !== b.records) {
        for (const id of Object.keys(a.records)) {
          const r = a.records[id];
          if (r !== b.records[id]) enqueue((d) => d.putRecord(r));
        }
        const done = Object.values(a.records).filter(isDone).length;
        if (done !== Object.values(b.records).filter(isDone).length) {
          const id = a.session.id;
          enqueue((d) => d.updateSession(id, { done }));
        }
      }
      if (a.session.annotator !== b.session.annotator || a.session.index !== b.session.index) {
        const { id, annotator, index } = a.session;
        enqueue((d) => d.updateSession(id, { annotator, index }));
      }
    }
    if (a.prefs !== b.prefs) {
      const p = a.prefs;
      enqueue((d) => d.setPrefs(p));
    }
    maybeSuggest();
  });

  function maybeSuggest(): void {
    const a = store.getState().annotate;
    if (!o.suggest || !a.prefs.showSuggestions || !a.session) return;
    const p = a.photos[a.index];
    if (!p) return;
    const r = a.records[p.id];
    if (!r || r.suggestion || r.labels || a.suggestionStatus[p.id]) return;
    ann().setSuggestion(p.id, 'pending');
    void (async () => {
      try {
        const blob = await (await db()).photoBlob(p.id);
        if (!blob) throw new Error('photo missing');
        const s = await o.suggest!(p.id, blob);
        ann().setSuggestion(p.id, s);
      } catch {
        ann().setSuggestion(p.id, 'error');
      }
    })();
  }

  async function refreshSessions(): Promise<void> {
    ann().setSessions(await (await db()).listSessions());
  }

  async function resume(id: string): Promise<void> {
    ann().setStatus('loading');
    try {
      const got = await (await db()).loadSession(id);
      if (!got) throw new Error('This annotation set is no longer on this device.');
      ann().open(got.session, got.photos, got.records);
    } catch (e) {
      fail(e);
    }
  }

  let initOnce: Promise<void> | null = null;
  async function reload(io: { resume?: boolean } = {}): Promise<void> {
    ann().setStatus('loading');
    try {
      const d = await db();
      ann().setPrefs(await d.getPrefs());
      const sessions = await d.listSessions();
      ann().setSessions(sessions);
      if ((io.resume ?? true) && sessions.length && !store.getState().annotate.session) await resume(sessions[0].id);
      else ann().setStatus('ready');
    } catch (e) {
      fail(e);
    }
  }

  return {
    init(io = {}) {
      // React StrictMode mounts twice: one load, not two racing ones
      return (initOnce ??= reload(io));
    },
    reload,
    async startSession(annotator, files) {
      // a labels.csv row is keyed by file name: a second file of the same name would be ambiguous
      const seen = new Set<string>();
      const duplicates: string[] = [];
      const unique = files.filter((f) => (seen.has(f.name) ? (duplicates.push(f.name), false) : (seen.add(f.name), true)));
      if (!unique.length) return { duplicates };
      ann().setStatus('loading');
      try {
        await chain;
        const got = await (await db()).createSession(annotator, unique);
        ann().open(got.session, got.photos, got.records);
        await refreshSessions();
      } catch (e) {
        fail(e);
      }
      return { duplicates };
    },
    resume,
    async deleteSession(id) {
      if (store.getState().annotate.session?.id === id) ann().close();
      await chain;
      await (await db()).deleteSession(id);
      await refreshSessions();
    },
    closeSession() {
      // stop the clock while the set is still open, so the subscriber stores the time
      ann().pauseClock();
      ann().close();
      enqueue(async () => refreshSessions());
    },
    async photoBlob(photoId) {
      return (await db()).photoBlob(photoId);
    },
    exportCsv() {
      const a = store.getState().annotate;
      return exportLabelsCsv(
        a.photos.map((p) => a.records[p.id]).filter((r) => !!r),
        a.session?.annotator ?? '',
      );
    },
    async setShowSuggestions(v) {
      ann().setPrefs({ ...store.getState().annotate.prefs, showSuggestions: v });
      await chain;
    },
    flush() {
      return chain;
    },
    stop() {
      unsub();
    },
  };
}
