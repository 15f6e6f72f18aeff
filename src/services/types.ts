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
  ProgressCallback,
  ProgressStage,
  WorkerInit,
} from '../worker/api';

export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
