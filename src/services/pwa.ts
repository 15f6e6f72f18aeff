/**
 * Service worker: registration and the update prompt. When a new version is waiting, the store shows a "reload"
 * prompt; the reload itself is deferred while an analysis runs (UpdateSlice).
 *
 * On a first visit the worker's install precaches the whole app (scripts, the three tfjs wasm binaries, the model,
 * the samples: ~15 MB) and the browser compiles the cached scripts. Registered at start-up, that competed with the
 * model load and the first analysis for the CPU: on this project's 2-core machine the service-worker thread was
 * busy ~2 s of a 3.8 s cold start (Chromium trace), and deferring it made navigation → first result 3.8 → 2.9 s
 * (bench/README.md). So a page that no worker controls yet registers once the model is loaded and no photo is in
 * work (or after FIRST_VISIT_MAX_WAIT_MS at the latest), when the browser is idle. A page the worker already
 * controls registers at once: nothing is precached again unless a new version exists, and the update check should
 * not wait.
 */
import { registerSW } from 'virtual:pwa-register';
import { analysisInWork, appStore, type AppState } from '../store';

/** The latest a first visit waits for the model and the first photos before registering. */
export const FIRST_VISIT_MAX_WAIT_MS = 20_000;

type Settling = Pick<AppState, 'model' | 'photos' | 'busyId'>;

/** Whether nothing on the first result's path is running: the model has settled and no photo is in work. */
export function firstVisitSettled(s: Settling): boolean {
  if (s.model.status !== 'ready' && s.model.status !== 'error') return false;
  return !analysisInWork(s) && !s.photos.some((p) => p.details?.status === 'computing');
}

/**
 * Calls `then` once `store` is settled ({@link firstVisitSettled}) and the browser is idle, or after `maxWaitMs`,
 * whichever comes first; exactly once.
 */
export function whenFirstVisitSettled(
  store: { getState(): Settling; subscribe(listener: (s: Settling) => void): () => void },
  then: () => void,
  maxWaitMs = FIRST_VISIT_MAX_WAIT_MS,
): void {
  let done = false;
  let unsubscribe: () => void = () => undefined;
  const fire = () => {
    if (done) return;
    done = true;
    unsubscribe();
    clearTimeout(timer);
    then();
  };
  const idle = (f: () => void) => (typeof requestIdleCallback === 'function' ? requestIdleCallback(f, { timeout: 2000 }) : setTimeout(f, 0));
  const timer = setTimeout(fire, maxWaitMs);
  const check = (s: Settling) => {
    if (!done && firstVisitSettled(s)) idle(() => firstVisitSettled(store.getState()) && fire());
  };
  unsubscribe = store.subscribe(check);
  check(store.getState());
}

export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator) || import.meta.env.DEV) return;
  const register = () => {
    try {
      performance.mark('funduslens:sw-register'); // diagnostics (bench, e2e): when, against the model and first result
    } catch {
      /* marks are diagnostics only */
    }
    const update = registerSW({
      immediate: true,
      onNeedRefresh() {
        appStore.getState().setUpdateReady(() => {
          // An uncontrolled page (first visit) has no worker to hand over to: the new one is
          // already active, so skip-waiting would never fire "controlling". Just reload.
          if (!navigator.serviceWorker.controller) location.reload();
          else void update(true);
        });
      },
    });
  };
  if (navigator.serviceWorker.controller) register();
  else whenFirstVisitSettled(appStore, register);
}
