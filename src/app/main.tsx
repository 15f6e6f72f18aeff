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

// The analyse page's first photo waits for the worker's script, tfjs and the model: start them now, before React's
// first render, rather than in OpenPhotos' mount effect (which still starts them for a later visit to that page).
if (routeFromHash(location.hash) === 'analyse') getRunner().preload();

initI18n(appStore.getState().settings.language);
document.documentElement.lang = appStore.getState().settings.language;
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
registerServiceWorker();
