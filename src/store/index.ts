/**
 * The one app store, built from slices (photos/queue, analysis/model, view, settings,
 * update). Components read it with selectors; services/runner.ts drives the queue.
 * Nothing here talks to the worker directly, so every slice is testable in jsdom.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore as useZustand } from 'zustand';
import { persist, createJSONStorage } from 'zustand/middleware';
import { CAM_METHODS, camMethodOf, type AnalysisResult, type CamMethod, type LesionLabelId, type ModelMetadata } from '../core/types';
import type { BackendPreference, ModelInfo, Notice, ProgressStage } from '../services/types';
import type { ColormapName } from '../render/colormap';
import type { ViewTransform } from '../render/view';
import { annotateSlice, type AnnotateSlice } from './annotate';
import { recordsSlice, type RecordsSlice } from './records';

export type PhotoStatus = 'queued' | 'decoding' | 'analysing' | 'done' | 'error' | 'cancelled';

export interface AppErrorInfo {
  code: string;
  message: string;
  file?: string;
}

export interface PhotoItem {
  id: string;
  name: string;
  source: 'file' | 'sample';
  file: Blob;
  status: PhotoStatus;
  stage?: ProgressStage;
  /** 0..1 within the stage */
  progress?: number;
  /** user asked to analyse an ungradable photo anyway */
  force: boolean;
  error?: AppErrorInfo;
  /** the decoded photo; `bitmap` is null while the photo is shelved */
  display?: { bitmap: ImageBitmap | null; width: number; height: number; originalWidth: number; originalHeight: number; decodeMs?: number };
  result?: AnalysisResult;
  preprocessed?: { size: number; rgba: Uint8ClampedArray } | null;
  /**
   * Set while the photo's pixels, maps and preprocessed view are released to bound the queue's memory
   * ({@link PhotosSlice.shelveIdle}); its result (verdict, probabilities, outlines, quality) stays. The runner's
   * restore() decodes the photo again and, when `maps`, recomputes the maps the same way.
   */
  shelved?: { maps: boolean; failed?: string };
  /** when the photo was last shown or finished (a counter): the least recently used are shelved first */
  usedAt?: number;
  /**
   * The Guided Grad-CAM / combined maps, computed on demand after the result (guided backprop
   * is a full backward pass per positive label, so the first result comes without them).
   * Absent: not asked for yet; 'done': merged into `result.maps`.
   */
  details?: DetailsState;
  notices: Notice[];
  addedAt: number;
}

export interface DetailsState {
  status: 'computing' | 'done' | 'error' | 'cancelled';
  /** 0..1 while computing */
  progress?: number;
  error?: AppErrorInfo;
}

export interface NewPhoto {
  name: string;
  file: Blob;
  source?: 'file' | 'sample';
}

export type OverlayKind = 'gradcam' | 'guided' | 'combined' | 'none';
export type Route = 'analyse' | 'model' | 'demo' | 'annotate' | 'records' | 'record' | 'patient' | 'batch';

export interface PhotosSlice {
  photos: PhotoItem[];
  selectedId: string | null;
  /** adds photos to the queue (selects the first one added); returns their ids */
  addPhotos(list: NewPhoto[]): string[];
  updatePhoto(id: string, patch: Partial<PhotoItem>): void;
  removePhoto(id: string): void;
  clearPhotos(): void;
  selectPhoto(id: string | null): void;
  /** "analyse anyway": requeue an ungradable photo with force */
  analyseAnyway(id: string): void;
  /** requeue after an error or a cancel */
  retry(id: string): void;
  /**
   * analyse a finished photo again with the current settings (e.g. after the explanation map
   * changed); the old result stays on screen, with its own method's labels, until the new one lands
   */
  reanalyse(id: string): void;
  /** the next photo the runner should work on */
  nextQueued(): PhotoItem | undefined;
  /** marks a photo as just used (shown or finished): shelved last */
  touchPhoto(id: string): void;
  /**
   * Releases the pixels (ImageBitmap), maps and preprocessed view of the finished photos beyond the
   * {@link PHOTOS_IN_MEMORY} most recently used, the shown one always kept: a batch of hundreds of photos
   * would otherwise hold ~60 MB per 12 MP photo (measured: 471 → 1719 MB renderer memory after 20 IDRiD photos).
   */
  shelveIdle(): void;
}

/**
 * How many finished photos keep their decoded pixels and maps in memory, the shown one included. Going back to
 * an older photo decodes it again and recomputes its maps (measured on this project's 2-core VM, wasm: 0.4 s for a
 * 1024 px sample, 1.4 s for a 4288×2848 photo).
 */
export const PHOTOS_IN_MEMORY = 4;

export type ModelStatus = 'idle' | 'loading' | 'ready' | 'error';
export interface ModelCardData {
  status: 'idle' | 'loading' | 'ready' | 'error';
  metadata?: ModelMetadata;
  /** ROC plots shipped next to model.json (roc-*.svg), absolute URLs */
  rocs?: { name: string; url: string }[];
  error?: AppErrorInfo;
}

export interface AnalysisSlice {
  model: { status: ModelStatus; info?: ModelInfo; error?: AppErrorInfo; stage?: ProgressStage };
  /** the bundle's metadata.json read on the main thread (disclaimer, model card) without starting the worker */
  card: ModelCardData;
  setCard(c: ModelCardData): void;
  /** photo id being analysed, if any */
  busyId: string | null;
  notices: Notice[];
  setModel(m: AnalysisSlice['model']): void;
  setBusy(id: string | null): void;
  addNotice(n: Notice): void;
  dismissNotice(index: number): void;
}

export interface ViewSlice {
  route: Route;
  overlay: OverlayKind;
  showOutlines: boolean;
  labelsVisible: Record<LesionLabelId, boolean>;
  opacity: number;
  showPreprocessed: boolean;
  /** null = fit to the viewer */
  view: ViewTransform | null;
  setRoute(r: Route): void;
  setOverlay(o: OverlayKind): void;
  setShowOutlines(v: boolean): void;
  toggleLabel(l: LesionLabelId): void;
  setOpacity(v: number): void;
  setShowPreprocessed(v: boolean): void;
  setView(v: ViewTransform | null): void;
}

export interface Settings {
  backend: BackendPreference;
  colormap: ColormapName;
  language: string;
  /** class-activation map of the next analyses (the paper's Grad-CAM unless the user picks HiResCAM) */
  cam: CamMethod;
}

export interface SettingsSlice {
  settings: Settings;
  setBackend(b: BackendPreference): void;
  setColormap(c: ColormapName): void;
  setLanguage(l: string): void;
  setCam(c: CamMethod): void;
}

export { CAM_METHODS };
export const DEFAULT_SETTINGS: Settings = { backend: 'auto', colormap: 'inferno', language: 'en', cam: 'gradcam' };

/** The method a result's maps and outlines were made with: results from before HiResCAM have none and are Grad-CAM. */
export const camOf = (r: Pick<AnalysisResult, 'camMethod'> | undefined | null): CamMethod => camMethodOf(r);

/** Whether a finished photo's maps were made with another method than the one now chosen (offer to re-analyse). */
export function camDiffers(p: PhotoItem | undefined, cam: CamMethod): boolean {
  const r = p?.result;
  if (!p || p.status !== 'done' || !r || (r.summary === 'ungradable' && !r.forced)) return false;
  return camOf(r) !== cam;
}

/**
 * Settings read back from localStorage, completed with the defaults: a field an older version
 * did not store (cam before HiResCAM) or a value this version does not know falls back.
 */
export function restoreSettings(saved: unknown): Settings {
  const o = (saved && typeof saved === 'object' ? saved : {}) as Partial<Record<keyof Settings, unknown>>;
  const out: Settings = { ...DEFAULT_SETTINGS };
  if (typeof o.backend === 'string') out.backend = o.backend as BackendPreference;
  if (typeof o.colormap === 'string') out.colormap = o.colormap as ColormapName;
  if (typeof o.language === 'string') out.language = o.language;
  if ((CAM_METHODS as readonly unknown[]).includes(o.cam)) out.cam = o.cam as CamMethod;
  return out;
}

export interface UpdateSlice {
  update: { ready: boolean; apply: (() => void) | null; deferred: boolean };
  setUpdateReady(apply: () => void): void;
  /** clicked "reload" while an analysis runs: reload as soon as it ends */
  deferUpdate(): void;
}

export type AppState = PhotosSlice & AnalysisSlice & ViewSlice & SettingsSlice & UpdateSlice & AnnotateSlice & RecordsSlice;
type Slice<T> = (set: StoreApi<AppState>['setState'], get: StoreApi<AppState>['getState']) => T;

let seq = 0;
const newId = () => `p${Date.now().toString(36)}-${(seq++).toString(36)}`;
let useTick = 0;
const holdsMemory = (p: PhotoItem) => !!(p.display?.bitmap || p.result?.maps || p.preprocessed);
const settled = (p: PhotoItem) => p.status === 'done' || p.status === 'error' || p.status === 'cancelled';

const photosSlice: Slice<PhotosSlice> = (set, get) => ({
  photos: [],
  selectedId: null,
  addPhotos(list) {
    const items: PhotoItem[] = list.map((p) => ({
      id: newId(),
      name: p.name,
      source: p.source ?? 'file',
      file: p.file,
      status: 'queued',
      force: false,
      notices: [],
      addedAt: Date.now(),
    }));
    if (!items.length) return [];
    set((s) => ({ photos: [...s.photos, ...items], selectedId: items[0].id, view: null }));
    return items.map((i) => i.id);
  },
  updatePhoto(id, patch) {
    set((s) => ({ photos: s.photos.map((p) => (p.id === id ? { ...p, ...patch } : p)) }));
  },
  removePhoto(id) {
    const p = get().photos.find((x) => x.id === id);
    p?.display?.bitmap?.close?.();
    set((s) => {
      const photos = s.photos.filter((x) => x.id !== id);
      const selectedId = s.selectedId === id ? (photos[photos.length - 1]?.id ?? null) : s.selectedId;
      return { photos, selectedId };
    });
  },
  clearPhotos() {
    for (const p of get().photos) p.display?.bitmap?.close?.();
    set({ photos: [], selectedId: null });
  },
  selectPhoto(id) {
    const before = get().selectedId;
    set({ selectedId: id, view: null });
    // the photo shown until now was in use until now
    if (before && before !== id && get().photos.some((p) => p.id === before)) get().touchPhoto(before);
    if (id) get().touchPhoto(id);
    get().shelveIdle();
  },
  analyseAnyway(id) {
    get().updatePhoto(id, { force: true, status: 'queued', stage: undefined, progress: undefined, error: undefined, details: undefined });
  },
  retry(id) {
    get().updatePhoto(id, { status: 'queued', stage: undefined, progress: undefined, error: undefined, details: undefined });
  },
  reanalyse(id) {
    const p = get().photos.find((x) => x.id === id);
    if (!p || p.status !== 'done') return;
    get().updatePhoto(id, { status: 'queued', stage: undefined, progress: undefined, error: undefined, details: undefined });
  },
  nextQueued() {
    return get().photos.find((p) => p.status === 'queued');
  },
  touchPhoto(id) {
    get().updatePhoto(id, { usedAt: ++useTick });
  },
  shelveIdle() {
    const { photos, selectedId } = get();
    // a photo whose guided maps are being computed is in use too
    const idle = photos.filter((p) => p.id !== selectedId && settled(p) && p.details?.status !== 'computing' && holdsMemory(p));
    const excess = idle.sort((a, b) => (b.usedAt ?? 0) - (a.usedAt ?? 0)).slice(Math.max(0, PHOTOS_IN_MEMORY - 1));
    if (!excess.length) return;
    const ids = new Set(excess.map((p) => p.id));
    for (const p of excess) p.display?.bitmap?.close?.();
    set((s) => ({
      photos: s.photos.map((p) =>
        ids.has(p.id)
          ? {
              ...p,
              display: p.display && { ...p.display, bitmap: null },
              result: p.result && { ...p.result, maps: undefined },
              preprocessed: undefined,
              details: undefined,
              shelved: { maps: !!(p.result?.maps || p.preprocessed) },
            }
          : p,
      ),
    }));
  },
});

const analysisSlice: Slice<AnalysisSlice> = (set) => ({
  model: { status: 'idle' },
  card: { status: 'idle' },
  setCard(card) {
    set({ card });
  },
  busyId: null,
  notices: [],
  setModel(model) {
    set({ model });
  },
  setBusy(busyId) {
    set({ busyId });
  },
  addNotice(n) {
    set((s) => (s.notices.some((x) => x.message === n.message) ? s : { notices: [...s.notices, n] }));
  },
  dismissNotice(index) {
    set((s) => ({ notices: s.notices.filter((_, i) => i !== index) }));
  },
});

const viewSlice: Slice<ViewSlice> = (set) => ({
  route: 'analyse',
  overlay: 'gradcam',
  showOutlines: true,
  labelsVisible: { ma: true, hm: true, hex: true, cws: true },
  opacity: 0.6,
  showPreprocessed: false,
  view: null,
  setRoute(route) {
    set({ route });
  },
  setOverlay(overlay) {
    set({ overlay });
  },
  setShowOutlines(showOutlines) {
    set({ showOutlines });
  },
  toggleLabel(l) {
    set((s) => ({ labelsVisible: { ...s.labelsVisible, [l]: !s.labelsVisible[l] } }));
  },
  setOpacity(v) {
    set({ opacity: Math.max(0, Math.min(1, Number.isFinite(v) ? v : 0.6)) });
  },
  setShowPreprocessed(showPreprocessed) {
    set({ showPreprocessed });
  },
  setView(view) {
    set({ view });
  },
});

const settingsSlice: Slice<SettingsSlice> = (set) => ({
  settings: { ...DEFAULT_SETTINGS },
  setBackend(backend) {
    set((s) => ({ settings: { ...s.settings, backend } }));
  },
  setColormap(colormap) {
    set((s) => ({ settings: { ...s.settings, colormap } }));
  },
  setLanguage(language) {
    set((s) => ({ settings: { ...s.settings, language } }));
  },
  setCam(cam) {
    if (!CAM_METHODS.includes(cam)) return;
    set((s) => ({ settings: { ...s.settings, cam } }));
  },
});

/**
 * Whether an analysis is running or waiting: a job holds the worker (busyId), or a photo is queued, decoding or
 * analysing (busyId is null for a moment between two photos). What must not be interrupted by a reload, nor
 * competed with by the service worker's first install.
 */
export function analysisInWork(s: Pick<AppState, 'busyId' | 'photos'>): boolean {
  return !!s.busyId || s.photos.some((p) => p.status === 'queued' || p.status === 'decoding' || p.status === 'analysing');
}

const updateSlice: Slice<UpdateSlice> = (set, get) => ({
  update: { ready: false, apply: null, deferred: false },
  setUpdateReady(apply) {
    set({ update: { ready: true, apply, deferred: false } });
  },
  deferUpdate() {
    const { update, records } = get();
    // Never reload under a running analysis, a pending queue or an unsaved record: the clinician would lose it.
    if (!analysisInWork(get()) && !records.dirty && !records.unsaved.length && update.apply) update.apply();
    else set({ update: { ...update, deferred: true } });
  },
});

export const SETTINGS_KEY = 'funduslens.settings';

/** A fresh store (tests make their own; the app uses `appStore`). */
export function createAppStore(o: { persistSettings?: boolean } = {}): StoreApi<AppState> {
  const init: Slice<AppState> = (set, get) => ({
    ...photosSlice(set, get),
    ...analysisSlice(set, get),
    ...viewSlice(set, get),
    ...settingsSlice(set, get),
    ...updateSlice(set, get),
    ...annotateSlice<AppState>(set, get),
    ...recordsSlice(set, get),
  });
  if (!o.persistSettings) return createStore<AppState>()((set, get) => init(set, get));
  return createStore<AppState>()(
    persist((set, get) => init(set, get), {
      name: SETTINGS_KEY,
      storage: createJSONStorage(() => localStorage),
      partialize: (s) => ({ settings: s.settings, opacity: s.opacity, overlay: s.overlay }) as unknown as AppState,
      version: 1,
      // zustand's default merge replaces `settings` whole: a field added since (cam) would be lost
      merge: (persisted, current) => {
        const p = (persisted ?? {}) as Partial<AppState>;
        return { ...current, ...p, settings: restoreSettings(p.settings) };
      },
    }),
  );
}

export const appStore = createAppStore({ persistSettings: typeof localStorage !== 'undefined' });

/** React hook over the app store with a selector. */
export function useApp<T>(selector: (s: AppState) => T): T {
  return useZustand(appStore, selector);
}

export const selectSelected = (s: AppState): PhotoItem | undefined => s.photos.find((p) => p.id === s.selectedId);

/** Error codes that mean the file itself is no usable photo (not a failure of the model or the device). */
const UNREADABLE: readonly string[] = ['invalid-image', 'decode-failed', 'image-too-small', 'image-too-large'];

/**
 * True when the photo's file could not be read as a usable photo (a text file named .jpg, a
 * truncated JPEG, a 16 px icon): there is nothing to view and nothing worth keeping as a record.
 * A photo whose analysis failed for another reason (no model, a lost GPU) is still a photo.
 */
export function photoUnreadable(p: PhotoItem): boolean {
  return p.status === 'error' && !p.display && UNREADABLE.includes(p.error?.code ?? '');
}

/** Overlays that need the on-demand maps (guided backprop), not just Grad-CAM. */
export const needsDetailMaps = (o: OverlayKind): boolean => o === 'guided' || o === 'combined';

/**
 * Whether `overlay` of this photo has to wait for the on-demand maps: a finished result
 * that ran the model (not an ungradable photo analysed without force) and has no Guided
 * Grad-CAM / combined maps yet.
 */
export function detailsMissing(p: PhotoItem | undefined, overlay: OverlayKind): boolean {
  const r = p?.result;
  // a shelved photo gets its class maps back first (runner restore)
  if (!p || p.status !== 'done' || !r || p.shelved || !needsDetailMaps(overlay)) return false;
  if (r.summary === 'ungradable' && !r.forced) return false;
  return !(r.maps?.guidedGradCam && r.maps.combined);
}
