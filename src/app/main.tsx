import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { initI18n } from '../i18n';
import { appStore } from '../store';
import { registerServiceWorker } from '../services/pwa';
import { App } from './App';
import './styles.css';

// e2e and kiosk setups can force a backend with ?backend=wasm (also stored as the setting).
const forced = new URLSearchParams(location.search).get('backend');
if (forced && ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'].includes(forced)) appStore.getState().setBackend(forced as never);

initI18n(appStore.getState().settings.language);
document.documentElement.lang = appStore.getState().settings.language;
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
registerServiceWorker();
