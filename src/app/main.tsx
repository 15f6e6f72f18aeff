import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { initI18n } from '../i18n';
import { appStore } from '../store';
import { registerServiceWorker } from '../services/pwa';
import { getRunner } from '../services/instance';
import { App, routeFromHash } from './App';
import './styles.css';

// e2e and kiosk setups can force a backend with ?backend=wasm (also stored as the setting).
const forced = new URLSearchParams(location.search).get('backend');
if (forced && ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'].includes(forced)) appStore.getState().setBackend(forced as never);

// The analyse page's first photo (and demo mode's, which starts at once) waits for the worker's script, tfjs and the
// model: start them now, before React's first render, rather than in OpenPhotos' mount effect (which still starts
// them for a later visit to that page). Other pages may never need the model.
const firstRoute = routeFromHash(location.hash);
// the first render shows the page the address names: the store starts on 'analyse', and a first render of that page
// mounted OpenPhotos, whose effect started the model even when the address was #/records or #/patient/…
appStore.getState().setRoute(firstRoute);
if (firstRoute === 'analyse' || firstRoute === 'demo') getRunner().preload();

initI18n(appStore.getState().settings.language);
document.documentElement.lang = appStore.getState().settings.language;
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
registerServiceWorker();
