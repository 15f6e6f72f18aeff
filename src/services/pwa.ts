/**
 * Service worker: registration and the update prompt. When a new version is waiting, the store shows a "reload"
 * prompt; the reload itself is deferred while an analysis runs (UpdateSlice).
 *
 * On a first visit the worker's install precaches the whole app (scripts, the three tfjs wasm binaries, the model,
 * the samples: ~15 MB) and the browser compiles the cached scripts. Registered at start-up, that competed with the
 * model load and the first analysis for the CPU: on this project's 2-core machine the service-worker thread was
 * busy ~2 s of a 3.8 s cold start (Chromium trace), and deferring it made navigation → first result 3.8 → 2.9 s
 * (bench/README.md). So a page that no worker controls yet registers once the model is loaded and no photo has been
 * in work for SETTLED_QUIET_MS (or after FIRST_VISIT_MAX_WAIT_MS at the latest), when the browser is idle. The quiet
 * period is there because the model now often loads before a photo clicked at once has reached the queue (the
 * worker starts before React's first render): in 1 of 3 cold starts measured, the worker registered 15 ms after
 * the model was in and its precache then ran beside the first analysis (navigation → result 2.0 → 2.5 s). A page
 * the worker already controls registers at once: nothing is precached again unless a new version exists, and the
 * update check should not wait.
 */
import { registerSW } from 'virtual:pwa-register';
import { analysisInWork, appStore, type AppState } from '../store';

/** The latest a first visit waits for the model and the first photos before registering. */
export const FIRST_VISIT_MAX_WAIT_MS = 20_000;
/** How long a first visit must stay settled (model in, no photo in work) before it registers. */
export const SETTLED_QUIET_MS = 3000;

type Settling = Pick<AppState, 'model' | 'photos' | 'busyId'>;

/** Whether nothing on the first result's path is running: the model has settled and no photo is in work. */
export function firstVisitSettled(s: Settling): boolean {
  if (s.model.status !== 'ready' && s.model.status !== 'error') return false;
  return !analysisInWork(s) && !s.photos.some((p) => p.details?.status === 'computing');
}

/**
 * Calls `then` once `store` has stayed settled ({@link firstVisitSettled}) for `quietMs` and the browser is idle, or
 * after `maxWaitMs`, whichever comes first; exactly once.
 */
export function whenFirstVisitSettled(
  store: { getState(): Settling; subscribe(listener: (s: Settling) => void): () => void },
  then: () => void,
  maxWaitMs = FIRST_VISIT_MAX_WAIT_MS,
  quietMs = SETTLED_QUIET_MS,
): void {
  let done = false;
  let unsubscribe: () => void = () => undefined;
  let quiet: ReturnType<typeof setTimeout> | null = null;
  const fire = () => {
    if (done) return;
    done = true;
    unsubscribe();
    clearTimeout(timer);
    if (quiet) clearTimeout(quiet);
    then();
  };
  const idle = (f: () => void) => (typeof requestIdleCallback === 'function' ? requestIdleCallback(f, { timeout: 2000 }) : setTimeout(f, 0));
  const timer = setTimeout(fire, maxWaitMs);
  const check = (s: Settling) => {
    if (done) return;
    if (!firstVisitSettled(s)) {
      // something started: the quiet period begins again when it is over
      if (quiet) clearTimeout(quiet);
      quiet = null;
    } else if (!quiet) {
      // once it has fired, `quiet` stays set until something starts: the idle callback is pending then
      quiet = setTimeout(() => idle(() => firstVisitSettled(store.getState()) && fire()), quietMs);
    }
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
