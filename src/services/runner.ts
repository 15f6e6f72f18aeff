/**
 * Drives the photo queue: one photo at a time, decode → (model ready) → analyse, writing
 * every step into the store. UI components only add photos and read state; this is the
 * one place that talks to the bridge for the queue.
 */
import type { StoreApi } from 'zustand/vanilla';
import type { AppState, PhotoItem } from '../store';
import type { AnalysisBridge } from './bridge';
import type { PhotoChecksMode, WorkerInit } from './types';
import { cancelledError, toAppError } from './errors';
import { FundusLensError } from '../core/errors';
import { camMethodOf } from '../core/types';

export interface RunnerOptions {
  store: StoreApi<AppState>;
  bridge: AnalysisBridge;
  /** absolute URL of the model bundle folder ('/'-terminated) */
  modelUrl: string;
  wasmPaths: Record<string, string>;
  /** where the worker runs the photo checks (WorkerInit.photoChecks; default 'auto') */
  photoChecks?: PhotoChecksMode;
}

export interface Runner {
  stop(): void;
  /** cancel a queued or running analysis, or the on-demand maps being computed for a photo */
  cancel(id: string): void;
  /**
   * Compute the Guided Grad-CAM + combined maps of a finished photo (lazy guided backprop)
   * and merge them into its result; `photo.details` tracks the state. A no-op when they are
   * there or being computed. Runs between queued analyses (never two jobs at once in the
   * worker). A result replaced meanwhile (re-analysed, removed) is never overwritten.
   * Resolves when settled; never rejects (failures land in `photo.details`).
   */
  details(id: string): Promise<void>;
  /**
   * Bring back a shelved photo (store shelveIdle): decode it again and, when its maps were released, analyse it
   * again the same way (its result's explanation method) and take back the maps and the preprocessed view. The
   * stored result is kept when the same model made it (the same verdict the user saw, and perhaps saved); another
   * model's run replaces it. Runs between queued analyses, like details(). Never rejects: a failure is recorded
   * in `photo.shelved.failed`.
   */
  restore(id: string): Promise<void>;
  /** forget a failed model load and try again */
  retryModel(): void;
  /**
   * Start the worker and load + warm up the model before the first photo (call it when the
   * page is idle): the first result then waits only for its own analysis. A failure lands in
   * the model state like any load.
   */
  preload(): void;
  /** resolves when the queue is empty and nothing runs (tests, demo mode) */
  whenIdle(): Promise<void>;
}

/** Browser MIME types we try to decode; an empty type (some drag sources) is given a chance. */
export function looksLikeImage(file: Blob): boolean {
  return !file.type || file.type.startsWith('image/');
}

/** A User Timing mark (DevTools, the cold-start bench read them); never throws. */
function mark(name: string, detail?: unknown): void {
  try {
    globalThis.performance?.mark?.(`funduslens:${name}`, { detail });
  } catch {
    /* marks are diagnostics only */
  }
}

export function startRunner(o: RunnerOptions): Runner {
  const { store, bridge } = o;
  let stopped = false;
  let working = false;
  const idleWaiters: (() => void)[] = [];
  // One worker job at a time, first come first served: a details request made while a queue
  // runs goes before the next queued photo, not in parallel with the current one.
  let chain: Promise<unknown> = Promise.resolve();
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  }
  const detailJobs = new Map<string, { promise: Promise<void>; cancelled: boolean }>();
  const photoOf = (id: string): PhotoItem | undefined => store.getState().photos.find((p) => p.id === id);

  const init = (): WorkerInit => {
    const { backend, cam } = store.getState().settings;
    return { modelUrl: o.modelUrl, backend, wasmPaths: o.wasmPaths, cam, ...(o.photoChecks ? { photoChecks: o.photoChecks } : {}) };
  };

  async function loadModel(): Promise<boolean> {
    const s = store.getState();
    if (s.model.status === 'error') return false;
    const i = init();
    try {
      if (s.model.status !== 'ready' || s.model.info === undefined) s.setModel({ status: 'loading', stage: 'loading-model' });
      const info = await bridge.ensureModel(i);
      if (s.model.status !== 'ready') mark('model-ready', { loadMs: info.loadMs, warmupMs: info.warmupMs, backend: info.backend });
      const st = store.getState();
      st.setModel({ status: 'ready', info });
      for (const n of info.notices) st.addNotice(n);
      return true;
    } catch (e) {
      store.getState().setModel({ status: 'error', error: toAppError(e) });
      return false;
    }
  }

  async function process(item: PhotoItem): Promise<void> {
    const s = store.getState();
    s.setBusy(item.id);
    const id = item.id;
    try {
      if (!looksLikeImage(item.file)) {
        s.updatePhoto(id, {
          status: 'error',
          error: { code: 'invalid-image', message: `“${item.name}” is not an image (${item.file.type}). Open a JPEG, PNG or WebP fundus photo.`, file: item.name },
        });
        return;
      }
      // The model loads (fetch, compile, warm-up) while the photo decodes: same worker, but
      // decoding is mostly off-thread image work and loading mostly waits on the network.
      const modelReady = loadModel();
      if (!item.display?.bitmap) {
        s.updatePhoto(id, { status: 'decoding', stage: 'decode', progress: 0 });
        const d = await bridge.decode(id, item.file);
        const notices = item.notices.slice();
        if (d.width !== d.originalWidth || d.height !== d.originalHeight) {
          notices.push({
            code: 'downscaled',
            message: `Large photo (${d.originalWidth}×${d.originalHeight}) analysed at ${d.width}×${d.height}.`,
            values: { ow: d.originalWidth, oh: d.originalHeight, w: d.width, h: d.height },
          });
        }
        store.getState().updatePhoto(id, { display: d, notices });
        mark('decoded');
      }
      if (!(await modelReady)) {
        // Stay queued: the photo is fine, the model is not. The model banner says how to fix it.
        store.getState().updatePhoto(id, { status: 'queued', stage: undefined });
        return;
      }
      const cur = photoOf(id);
      if (!cur || cur.status === 'cancelled') return;
      store.getState().updatePhoto(id, { status: 'analysing', stage: 'quality', progress: 0 });
      // The class-activation map (Grad-CAM or HiResCAM, as set now) for every lesion label, no
      // guided backprop: the result shows first, the Guided views compute theirs on demand
      // (details(), on the method the result records).
      const cam = store.getState().settings.cam;
      const res = await bridge.analyze(id, item.file, { force: cur.force, maps: 'gradcam', cam, preprocessed: true }, (stage, progress) => {
        store.getState().updatePhoto(id, { stage, progress });
      });
      const after = photoOf(id);
      if (!after) return;
      // decoding ran before analyze() (in the same worker): show it with the other stages
      if (res.result.timingsMs.decode === undefined && after.display?.decodeMs !== undefined) res.result.timingsMs.decode = after.display.decodeMs;
      store.getState().updatePhoto(id, {
        status: 'done',
        result: res.result,
        preprocessed: res.preprocessed,
        notices: [...after.notices.filter((n) => n.code !== 'backend-fallback'), ...res.notices],
        stage: undefined,
        progress: undefined,
        error: undefined,
        details: undefined,
        shelved: undefined,
      });
      mark('result', res.result.timingsMs);
      const st = store.getState();
      st.touchPhoto(id);
      st.shelveIdle();
      for (const n of res.notices) if (n.code === 'backend-fallback') st.addNotice(n);
      // A run-time fallback changed the backend: refresh what the header shows.
      if (st.model.info && res.result.backend && st.model.info.backend !== res.result.backend) {
        st.setModel({ status: 'ready', info: { ...st.model.info, backend: res.result.backend as never } });
      }
    } catch (e) {
      const err = toAppError(e);
      const exists = store.getState().photos.some((p) => p.id === id);
      if (exists) store.getState().updatePhoto(id, { status: err.code === 'cancelled' ? 'cancelled' : 'error', error: err, stage: undefined });
    } finally {
      store.getState().setBusy(null);
    }
  }

  async function pump(): Promise<void> {
    if (working || stopped) return;
    working = true;
    try {
      for (;;) {
        const s = store.getState();
        if (stopped) break;
        const next = s.photos.find((p) => p.status === 'queued' && (s.model.status !== 'error' || !p.display));
        if (!next) break;
        await exclusive(() => process(next));
        if (store.getState().model.status === 'error') {
          // decode the remaining photos so they can at least be viewed
          const waiting = store.getState().photos.find((p) => p.status === 'queued' && !p.display);
          if (!waiting) break;
        }
      }
    } finally {
      working = false;
      const s = store.getState();
      if (s.update.deferred && s.update.apply && !s.busyId && !s.records.dirty && !s.records.unsaved.length) s.update.apply();
      if (!s.photos.some((p) => p.status === 'queued' && (s.model.status !== 'error' || !p.display))) {
        while (idleWaiters.length) idleWaiters.shift()!();
      } else void pump();
    }
  }

  async function computeDetails(id: string, job: { cancelled: boolean }): Promise<void> {
    const start = photoOf(id);
    const result = start?.result;
    if (!start || !result) return;
    const current = () => {
      const p = photoOf(id);
      return p && p.result === result ? p : undefined;
    };
    store.getState().updatePhoto(id, { details: { status: 'computing', progress: 0 } });
    await exclusive(async () => {
      try {
        if (job.cancelled) throw cancelledError();
        const cur = current();
        if (!cur) return; // removed or re-analysed while waiting
        if (!(await loadModel())) throw new FundusLensError('backend-failed', store.getState().model.error?.message ?? 'The model could not be loaded.');
        const d = await bridge.details(id, cur.file, result, (_stage, progress) => {
          if (current()) store.getState().updatePhoto(id, { details: { status: 'computing', progress } });
        });
        if (!current()) return;
        if (job.cancelled) throw cancelledError(); // the worker finished before it saw the cancel
        const merged = {
          ...result,
          maps: { gradCam: result.maps?.gradCam ?? [], guidedGradCam: d.guidedGradCam, combined: d.combined },
          timingsMs: { ...result.timingsMs, ...(d.timingsMs.guidedBackprop !== undefined ? { guidedBackprop: d.timingsMs.guidedBackprop } : {}) },
        };
        store.getState().updatePhoto(id, { result: merged, details: { status: 'done' } });
        for (const n of d.notices) store.getState().addNotice(n);
      } catch (e) {
        const err = toAppError(e);
        if (current()) store.getState().updatePhoto(id, { details: { status: err.code === 'cancelled' ? 'cancelled' : 'error', error: err } });
      }
    });
  }

  const restoreJobs = new Map<string, Promise<void>>();
  function restore(id: string): Promise<void> {
    const running = restoreJobs.get(id);
    if (running) return running;
    if (!photoOf(id)?.shelved) return Promise.resolve();
    const job = exclusive(async () => {
      const cur = photoOf(id);
      if (!cur?.shelved) return; // re-analysed or removed meanwhile
      const { result } = cur;
      let bitmap: ImageBitmap | null = null;
      try {
        const display = cur.display?.bitmap ? cur.display : await bridge.decode(id, cur.file);
        bitmap = display.bitmap;
        let patch: Partial<PhotoItem> = {};
        if (cur.shelved.maps && result) {
          if (!(await loadModel())) throw new FundusLensError('backend-failed', store.getState().model.error?.message ?? 'The model could not be loaded.');
          const res = await bridge.analyze(id, cur.file, { force: cur.force, maps: 'gradcam', cam: camMethodOf(result), preprocessed: true });
          patch = res.result.model === result.model ? { result: { ...result, maps: res.result.maps }, preprocessed: res.preprocessed } : { result: res.result, preprocessed: res.preprocessed };
        }
        const now = photoOf(id);
        if (!now?.shelved || now.result !== result) return; // replaced or removed meanwhile: drop what was made
        store.getState().updatePhoto(id, { display, ...patch, shelved: undefined });
        bitmap = null; // the photo owns it now
        store.getState().shelveIdle();
      } catch (e) {
        const err = toAppError(e);
        const now = photoOf(id);
        if (now?.shelved) store.getState().updatePhoto(id, { shelved: { ...now.shelved, failed: err.message } });
      } finally {
        bitmap?.close();
        restoreJobs.delete(id);
      }
    });
    restoreJobs.set(id, job);
    return job;
  }

  function details(id: string): Promise<void> {
    const running = detailJobs.get(id);
    if (running) return running.promise;
    const p = photoOf(id);
    // the guided maps multiply the class maps: bring those back first (once: a failed restore stays failed)
    if (p?.shelved) return p.shelved.failed ? Promise.resolve() : restore(id).then(() => (photoOf(id)?.shelved ? undefined : details(id)));
    const r = p?.result;
    if (!p || p.status !== 'done' || !r || (r.maps?.guidedGradCam && r.maps.combined)) return Promise.resolve();
    const job = { cancelled: false, promise: Promise.resolve() };
    job.promise = computeDetails(id, job).finally(() => {
      if (detailJobs.get(id) === job) detailJobs.delete(id);
    });
    detailJobs.set(id, job);
    return job.promise;
  }

  function cancelDetails(id: string): void {
    const job = detailJobs.get(id);
    if (!job) return;
    job.cancelled = true;
    bridge.cancel(id);
  }

  let lastBackend = store.getState().settings.backend;
  const unsub = store.subscribe((s) => {
    // a photo removed while its maps are computed: stop the worker's job
    for (const id of detailJobs.keys()) if (!s.photos.some((p) => p.id === id)) cancelDetails(id);
    if (s.settings.backend !== lastBackend) {
      lastBackend = s.settings.backend;
      // the next analysis re-initialises the worker on the new backend
      if (s.model.status !== 'loading') s.setModel({ status: 'idle' });
    }
    if (!working && s.photos.some((p) => p.status === 'queued')) void pump();
  });
  void pump();

  return {
    stop() {
      stopped = true;
      unsub();
    },
    cancel(id) {
      if (detailJobs.has(id)) {
        cancelDetails(id);
        return;
      }
      const p = photoOf(id);
      if (!p) return;
      if (p.status === 'queued') store.getState().updatePhoto(id, { status: 'cancelled' });
      else bridge.cancel(id);
    },
    details,
    restore,
    preload() {
      if (stopped || store.getState().model.status !== 'idle') return;
      mark('preload');
      void loadModel();
    },
    retryModel() {
      store.getState().setModel({ status: 'idle' });
      void pump();
    },
    whenIdle() {
      const s = store.getState();
      if (!working && !s.photos.some((p) => p.status === 'queued' && (s.model.status !== 'error' || !p.display))) return Promise.resolve();
      return new Promise((r) => idleWaiters.push(r));
    },
  };
}
