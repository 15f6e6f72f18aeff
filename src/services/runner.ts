/**
 * Drives the photo queue: one photo at a time, decode → (model ready) → analyse, writing
 * every step into the store. UI components only add photos and read state; this is the
 * one place that talks to the bridge for the queue.
 */
import type { StoreApi } from 'zustand/vanilla';
import type { AppState, PhotoItem } from '../store';
import type { AnalysisBridge } from './bridge';
import type { WorkerInit } from './types';
import { toAppError } from './errors';

export interface RunnerOptions {
  store: StoreApi<AppState>;
  bridge: AnalysisBridge;
  /** absolute URL of the model bundle folder ('/'-terminated) */
  modelUrl: string;
  wasmPaths: Record<string, string>;
}

export interface Runner {
  stop(): void;
  cancel(id: string): void;
  /** forget a failed model load and try again */
  retryModel(): void;
  /** resolves when the queue is empty and nothing runs (tests, demo mode) */
  whenIdle(): Promise<void>;
}

/** Browser MIME types we try to decode; an empty type (some drag sources) is given a chance. */
export function looksLikeImage(file: Blob): boolean {
  return !file.type || file.type.startsWith('image/');
}

export function startRunner(o: RunnerOptions): Runner {
  const { store, bridge } = o;
  let stopped = false;
  let working = false;
  const idleWaiters: (() => void)[] = [];

  const init = (): WorkerInit => ({ modelUrl: o.modelUrl, backend: store.getState().settings.backend, wasmPaths: o.wasmPaths });

  async function loadModel(): Promise<boolean> {
    const s = store.getState();
    if (s.model.status === 'error') return false;
    const i = init();
    try {
      if (s.model.status !== 'ready' || s.model.info === undefined) s.setModel({ status: 'loading', stage: 'loading-model' });
      const info = await bridge.ensureModel(i);
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
      if (!item.display) {
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
      }
      if (!(await loadModel())) {
        // Stay queued: the photo is fine, the model is not. The model banner says how to fix it.
        store.getState().updatePhoto(id, { status: 'queued', stage: undefined });
        return;
      }
      const cur = store.getState().photos.find((p) => p.id === id);
      if (!cur || cur.status === 'cancelled') return;
      store.getState().updatePhoto(id, { status: 'analysing', stage: 'quality', progress: 0 });
      const res = await bridge.analyze(id, item.file, { force: cur.force, maps: 'all', preprocessed: true }, (stage, progress) => {
        store.getState().updatePhoto(id, { stage, progress });
      });
      const after = store.getState().photos.find((p) => p.id === id);
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
      });
      const st = store.getState();
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
        await process(next);
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

  let lastBackend = store.getState().settings.backend;
  const unsub = store.subscribe((s) => {
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
      const p = store.getState().photos.find((x) => x.id === id);
      if (!p) return;
      if (p.status === 'queued') store.getState().updatePhoto(id, { status: 'cancelled' });
      else bridge.cancel(id);
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
