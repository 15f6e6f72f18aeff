/**
 * Annotation slice (issue 7, the paper's element annotation §II.A): which set of photos is
 * open, the annotator's ticks per photo, position, undo, time per photo, the model's
 * suggestions and whether they are shown. Pure state transitions only: persistence to
 * IndexedDB and the model calls live in services/annotations/controller.ts, which subscribes
 * to this slice. `now` parameters default to Date.now() and let tests drive the clock.
 */
import type { StoreApi } from 'zustand/vanilla';
import type { LabelId } from '../core/types';
import { suggestionVector, toggleLabel, type AnnotationRecord, type LabelVector, type Suggestion } from '../services/annotations/labels';
import type { AnnotationPrefs, PhotoMeta, SessionMeta } from '../services/annotations/db';

export interface AnnotateState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  error?: string;
  /** sessions stored on this device, latest first */
  sessions: SessionMeta[];
  /** the open set, null on the session list */
  session: SessionMeta | null;
  photos: PhotoMeta[];
  records: Record<string, AnnotationRecord>;
  index: number;
  /** label changes to undo, latest last */
  undo: { photoId: string; before: AnnotationRecord }[];
  showStandard: boolean;
  prefs: AnnotationPrefs;
  /** model calls in flight or failed, per photo id (a finished one lives in the record) */
  suggestionStatus: Record<string, 'pending' | 'error'>;
  /** when the current photo came on screen; null while the clock is paused */
  shownAt: number | null;
}

export interface AnnotateActions {
  setStatus(status: AnnotateState['status'], error?: string): void;
  setSessions(list: SessionMeta[]): void;
  open(session: SessionMeta, photos: PhotoMeta[], records: AnnotationRecord[], now?: number): void;
  close(now?: number): void;
  /** keys 1–5: toggle a label on the current photo (healthy rule enforced) */
  toggle(label: LabelId, now?: number): void;
  /** key 0: mark / unmark the current photo as ungradable */
  toggleUngradable(now?: number): void;
  /** Enter: take the shown suggestion as this photo's labels */
  acceptSuggestion(now?: number): void;
  go(delta: number, now?: number): void;
  goTo(index: number, now?: number): void;
  undo(now?: number): void;
  setAnnotator(name: string): void;
  setShowStandard(v: boolean): void;
  setPrefs(p: AnnotationPrefs): void;
  setSuggestion(photoId: string, s: Suggestion | 'pending' | 'error'): void;
  pauseClock(now?: number): void;
  resumeClock(now?: number): void;
}

export interface AnnotateSlice {
  annotate: AnnotateState;
  ann: AnnotateActions;
}

export const initialAnnotate = (): AnnotateState => ({
  status: 'idle',
  sessions: [],
  session: null,
  photos: [],
  records: {},
  index: 0,
  undo: [],
  showStandard: false,
  prefs: { showSuggestions: false },
  suggestionStatus: {},
  shownAt: null,
});

/** The current photo's record, if a set is open. */
export function currentRecord(a: AnnotateState): AnnotationRecord | undefined {
  const p = a.photos[a.index];
  return p ? a.records[p.id] : undefined;
}

/**
 * What the check boxes show: the annotator's ticks, else (suggestions on) the model's
 * suggestion, marked as such. Suggestions never become labels without a keypress.
 */
export function shownVector(a: AnnotateState, r: AnnotationRecord | undefined): { v: LabelVector | null; suggested: boolean } {
  if (!r) return { v: null, suggested: false };
  if (r.labels) return { v: r.labels, suggested: false };
  if (a.prefs.showSuggestions && r.suggestion) return { v: suggestionVector(r.suggestion), suggested: true };
  return { v: null, suggested: false };
}

const UNDO_LIMIT = 500;

/** The slice factory; works with any store whose state includes AnnotateSlice. */
export function annotateSlice<S extends AnnotateSlice>(set: StoreApi<S>['setState'], get: () => S): AnnotateSlice {
  const patch = (f: (a: AnnotateState) => Partial<AnnotateState>) => set(((s: S) => ({ annotate: { ...s.annotate, ...f(s.annotate) } })) as never);
  /** add the time the current photo was on screen to its record */
  const stopClock = (a: AnnotateState, now: number): Record<string, AnnotationRecord> => {
    const p = a.photos[a.index];
    if (!p || a.shownAt === null) return a.records;
    const r = a.records[p.id];
    return r ? { ...a.records, [p.id]: { ...r, ms: r.ms + Math.max(0, now - a.shownAt) } } : a.records;
  };
  const change = (now: number, f: (r: AnnotationRecord, a: AnnotateState) => AnnotationRecord | null) =>
    patch((a) => {
      const p = a.photos[a.index];
      const r = p && a.records[p.id];
      if (!r) return {};
      const next = f(r, a);
      if (!next) return {};
      const undo = [...a.undo, { photoId: p.id, before: r }].slice(-UNDO_LIMIT);
      return { records: { ...a.records, [p.id]: { ...next, firstAt: r.firstAt ?? now, updatedAt: now } }, undo };
    });
  const moveTo = (index: number, now: number) =>
    patch((a) => {
      if (!a.photos.length) return {};
      const i = Math.max(0, Math.min(a.photos.length - 1, Math.round(index)));
      if (i === a.index) return {};
      return { records: stopClock(a, now), index: i, shownAt: a.shownAt === null ? null : now, session: a.session ? { ...a.session, index: i } : a.session };
    });

  const ann: AnnotateActions = {
    setStatus(status, error) {
      patch(() => ({ status, error }));
    },
    setSessions(sessions) {
      patch(() => ({ sessions }));
    },
    open(session, photos, records, now = Date.now()) {
      const byId: Record<string, AnnotationRecord> = {};
      for (const r of records) byId[r.id] = r;
      const index = Math.max(0, Math.min(photos.length - 1, session.index));
      patch(() => ({ status: 'ready', error: undefined, session: { ...session, index }, photos, records: byId, index, undo: [], suggestionStatus: {}, shownAt: now }));
    },
    close(now = Date.now()) {
      patch((a) => ({ records: stopClock(a, now), shownAt: null }));
      patch(() => ({ session: null, photos: [], records: {}, index: 0, undo: [], suggestionStatus: {} }));
    },
    toggle(label, now = Date.now()) {
      change(now, (r, a) => {
        const { v } = shownVector(a, r);
        return { ...r, labels: toggleLabel(v, label) };
      });
    },
    toggleUngradable(now = Date.now()) {
      change(now, (r) => ({ ...r, ungradable: !r.ungradable }));
    },
    acceptSuggestion(now = Date.now()) {
      change(now, (r, a) => {
        const { v, suggested } = shownVector(a, r);
        return suggested && v ? { ...r, labels: v } : null;
      });
    },
    go(delta, now = Date.now()) {
      moveTo(get().annotate.index + delta, now);
    },
    goTo(index, now = Date.now()) {
      moveTo(index, now);
    },
    undo(now = Date.now()) {
      const a = get().annotate;
      const last = a.undo[a.undo.length - 1];
      if (!last) return;
      const i = a.photos.findIndex((p) => p.id === last.photoId);
      moveTo(i, now);
      // keep the time spent since: undo restores labels, not the clock
      patch((b) => ({ records: { ...b.records, [last.photoId]: { ...last.before, ms: b.records[last.photoId]?.ms ?? last.before.ms } }, undo: b.undo.slice(0, -1) }));
    },
    setAnnotator(name) {
      patch((a) => (a.session ? { session: { ...a.session, annotator: name } } : {}));
    },
    setShowStandard(showStandard) {
      patch(() => ({ showStandard }));
    },
    setPrefs(prefs) {
      patch(() => ({ prefs }));
    },
    setSuggestion(photoId, s) {
      patch((a) => {
        const status = { ...a.suggestionStatus };
        if (s === 'pending' || s === 'error') return { suggestionStatus: { ...status, [photoId]: s } };
        delete status[photoId];
        const r = a.records[photoId];
        return { suggestionStatus: status, records: r ? { ...a.records, [photoId]: { ...r, suggestion: s } } : a.records };
      });
    },
    pauseClock(now = Date.now()) {
      patch((a) => (a.shownAt === null ? {} : { records: stopClock(a, now), shownAt: null }));
    },
    resumeClock(now = Date.now()) {
      patch((a) => (a.shownAt !== null || !a.session ? {} : { shownAt: now }));
    },
  };
  return { annotate: initialAnnotate(), ann };
}
