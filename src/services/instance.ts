/**
 * The app's singletons: one bridge, one queue runner, bound to the app store. Created on
 * first use so tests that import components do not start workers.
 */
import { appStore } from '../store';
import { createBridge, type AnalysisBridge } from './bridge';
import { startRunner, type Runner } from './runner';
import { photoChecksModeFrom } from './types';
import { fetchModelCard, probeRocs } from './model-card';

/** Folder of the bundled model, resolved against the app's base URL. */
export function modelUrl(): string {
  return new URL(`${import.meta.env.BASE_URL}models/demo/`, location.href).href;
}
export function appBase(): string {
  return new URL(import.meta.env.BASE_URL, location.href).href;
}

let bridge: AnalysisBridge | null = null;
let runner: Runner | null = null;

export function getRunner(): Runner {
  if (!runner) {
    bridge = createBridge();
    // ?photo-checks=worker|inline overrides where the photo checks run (e2e, kiosks); default 'auto'
    runner = startRunner({ store: appStore, bridge, modelUrl: modelUrl(), wasmPaths: {}, photoChecks: photoChecksModeFrom(location.search) });
  }
  return runner;
}

/** The one analysis bridge (annotation suggestions share the worker and its loaded model). */
export function getBridge(): AnalysisBridge {
  getRunner();
  return bridge!;
}

export async function loadModelCard(): Promise<void> {
  const s = appStore.getState();
  if (s.card.status === 'loading' || s.card.status === 'ready') return;
  s.setCard({ status: 'loading' });
  appStore.getState().setCard(await fetchModelCard(modelUrl()));
}

let rocsProbe: Promise<void> | null = null;
/** Finds the card's ROC plots once its metadata is in (the model card page asks; nothing else needs them). */
export function loadModelCardRocs(): Promise<void> {
  const card = appStore.getState().card;
  if (card.status !== 'ready' || !card.metadata || card.rocs !== undefined) return Promise.resolve();
  const meta = card.metadata;
  rocsProbe ??= probeRocs(modelUrl(), meta)
    .then((rocs) => {
      const now = appStore.getState().card;
      if (now.metadata === meta) appStore.getState().setCard({ ...now, rocs });
    })
    .finally(() => {
      rocsProbe = null;
    });
  return rocsProbe;
}
