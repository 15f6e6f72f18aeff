/**
 * Re-export of the worker contract for the main thread. The store and components import
 * these from services/ (the import rules keep UI code away from src/worker); `export type`
 * guarantees no worker code is bundled into the page.
 */
export type {
  AnalysisWorkerApi,
  AnalyzeOptions,
  AnalyzeResponse,
  BackendName,
  BackendPreference,
  DecodedPhoto,
  DetailsResponse,
  MapsRequest,
  ModelInfo,
  Notice,
  PhotoChecksMode,
  ProgressCallback,
  ProgressStage,
  WorkerInit,
} from '../worker/api';
import type { PhotoChecksMode } from '../worker/api';

export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;

/** Reads `?photo-checks=auto|worker|inline` from a URL query; anything else is 'auto'. */
export function photoChecksModeFrom(search: string): PhotoChecksMode {
  const v = new URLSearchParams(search).get('photo-checks');
  return v === 'worker' || v === 'inline' ? v : 'auto';
}
