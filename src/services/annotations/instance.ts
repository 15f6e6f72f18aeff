/**
 * The app's annotation controller, bound to the app store, the device's IndexedDB and the
 * analysis worker (suggestions reuse the bundled model through the shared bridge).
 */
import { appStore } from '../../store';
import { getBridge, modelUrl } from '../instance';
import { createAnnotationController, type AnnotationController } from './controller';
import { openAnnotationDb } from './db';
import type { Suggestion } from './labels';

let controller: AnnotationController | null = null;

/** Model suggestion for one photo: the same analysis as the Analyse page, without maps. */
export async function suggestWithModel(photoId: string, photo: Blob): Promise<Suggestion> {
  const bridge = getBridge();
  // the same init as the queue runner's, so the bridge reuses the model it already loaded
  await bridge.ensureModel({ modelUrl: modelUrl(), backend: appStore.getState().settings.backend, wasmPaths: {} });
  const key = `annotate:${photoId}`;
  try {
    const { result } = await bridge.analyze(key, photo, { force: true, maps: 'none' });
    return { positive: result.positive, probabilities: result.probabilities, model: result.model };
  } finally {
    bridge.forget(key);
  }
}

export function getAnnotationController(): AnnotationController {
  controller ??= createAnnotationController({ store: appStore, db: () => openAnnotationDb(), suggest: suggestWithModel });
  return controller;
}
