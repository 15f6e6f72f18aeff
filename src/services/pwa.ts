/**
 * Service-worker update prompt: when a new version is waiting, the store shows a
 * "reload" prompt; the reload itself is deferred while an analysis runs (UpdateSlice).
 */
import { registerSW } from 'virtual:pwa-register';
import { appStore } from '../store';

export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator) || import.meta.env.DEV) return;
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
}
