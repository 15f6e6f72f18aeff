/**
 * The main thread's handle on the analysis worker (squoosh-style): the worker starts on
 * first use, re-loads the model by itself after a restart, reports progress per stage,
 * supports cancel (soft at the next stage boundary, hard by terminating after a grace
 * period) and is terminated when idle so a clinic laptop gets its memory back.
 */
import * as Comlink from 'comlink';
import type { AnalysisResult } from '../core/types';
import type { AnalysisWorkerApi, AnalyzeOptions, AnalyzeResponse, DecodedPhoto, DetailsResponse, ModelInfo, ProgressCallback, WorkerInit } from './types';
import { cancelledError, toAppError } from './errors';
import { FundusLensError } from '../core/errors';

export interface AnalysisBridge {
  /** load the model (no-op when the running worker already has it with these options) */
  ensureModel(init: WorkerInit, onProgress?: ProgressCallback): Promise<ModelInfo>;
  decode(id: string, file: Blob): Promise<DecodedPhoto>;
  analyze(id: string, file: Blob, o: AnalyzeOptions, onProgress?: ProgressCallback): Promise<AnalyzeResponse>;
  /** Guided Grad-CAM + combined map for an earlier analyze(id) result; cancel(id) stops it too */
  details(id: string, file: Blob, result: AnalysisResult, onProgress?: ProgressCallback): Promise<DetailsResponse>;
  cancel(id: string): void;
  forget(id: string): void;
  terminate(): void;
  readonly running: boolean;
}

export interface BridgeOptions {
  /** builds the worker; tests pass a fake */
  createWorker?: () => Worker;
  /** terminate after this long without calls (ms); 0 = never */
  idleMs?: number;
  /** after cancel(), terminate the worker if the call has not settled within this (ms) */
  hardCancelMs?: number;
  /** wrap an endpoint; tests can pass an in-process implementation instead of comlink */
  wrap?: (w: Worker) => AnalysisWorkerApi;
}

export function defaultCreateWorker(): Worker {
  return new Worker(new URL('../worker/analysis.worker.ts', import.meta.url), { type: 'module', name: 'funduslens-analysis' });
}

export function createBridge(o: BridgeOptions = {}): AnalysisBridge {
  const createWorker = o.createWorker ?? defaultCreateWorker;
  const wrap = o.wrap ?? ((w: Worker) => Comlink.wrap<AnalysisWorkerApi>(w) as unknown as AnalysisWorkerApi);
  const idleMs = o.idleMs ?? 5 * 60_000;
  const hardCancelMs = o.hardCancelMs ?? 3000;

  let worker: Worker | null = null;
  let api: AnalysisWorkerApi | null = null;
  let modelPromise: Promise<ModelInfo> | null = null;
  let modelKey = '';
  let lastInit: WorkerInit | null = null;
  let pending = 0;
  let idleTimer: ReturnType<typeof setTimeout> | null = null;
  // calls that a hard cancel or a crash must reject
  const inflight = new Map<string, (e: unknown) => void>();

  function start(): AnalysisWorkerApi {
    if (api) return api;
    worker = createWorker();
    worker.addEventListener('error', (ev) => {
      const err = new FundusLensError('backend-failed', `The analysis worker stopped: ${(ev as ErrorEvent).message ?? 'unknown error'}. Reload the page and try again.`);
      for (const reject of inflight.values()) reject(err);
      terminate();
    });
    api = wrap(worker);
    return api;
  }

  function terminate(): void {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    if (api) (api as unknown as { [Comlink.releaseProxy]?: () => void })[Comlink.releaseProxy]?.();
    worker?.terminate();
    worker = null;
    api = null;
    modelPromise = null;
    modelKey = '';
  }

  function busy(): void {
    pending++;
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
  }
  function idle(): void {
    pending--;
    if (pending === 0 && idleMs > 0) idleTimer = setTimeout(terminate, idleMs);
  }

  async function call<T>(key: string | null, fn: (a: AnalysisWorkerApi) => Promise<T>): Promise<T> {
    busy();
    try {
      const a = start();
      return await new Promise<T>((resolve, reject) => {
        if (key) inflight.set(key, reject);
        fn(a).then(resolve, (e) => reject(e instanceof FundusLensError ? e : toFundus(e)));
      });
    } finally {
      if (key) inflight.delete(key);
      idle();
    }
  }

  function toFundus(e: unknown): FundusLensError {
    const a = toAppError(e);
    return new FundusLensError((a.code === 'unknown' || a.code === 'not-an-image' || a.code === 'worker-crashed' ? 'backend-failed' : a.code) as never, a.message, a.file);
  }

  function ensureModel(init: WorkerInit, onProgress?: ProgressCallback): Promise<ModelInfo> {
    // `cam` only says which backward kernels to warm at load: switching the explanation map
    // must not reload the model (each analyze() names its method itself)
    const { cam: _cam, ...loadKey } = init;
    const key = JSON.stringify(loadKey);
    lastInit = init;
    if (modelPromise && key === modelKey && api) return modelPromise;
    modelKey = key;
    const p = call('__init__', (a) => a.init(init, onProgress ? Comlink.proxy(onProgress) : undefined));
    modelPromise = p;
    p.catch(() => {
      if (modelPromise === p) {
        modelPromise = null;
        modelKey = '';
      }
    });
    return p;
  }

  /** after an idle/hard-cancel restart the new worker has no model: load it again */
  async function withModel(): Promise<void> {
    if (!lastInit) return;
    if (!modelPromise || !api) await ensureModel(lastInit);
    else await modelPromise;
  }

  return {
    ensureModel,
    async decode(id, file) {
      return call(`decode:${id}`, (a) => a.decode(id, file));
    },
    async analyze(id, file, opts, onProgress) {
      await withModel();
      return call(id, (a) => a.analyze(id, file, opts, onProgress ? Comlink.proxy(onProgress) : undefined));
    },
    async details(id, file, result, onProgress) {
      await withModel();
      // the result's maps stay on this side: only what explainDetails reads needs to cross
      const { maps: _maps, ...lean } = result;
      return call(id, (a) => a.details(id, file, lean, onProgress ? Comlink.proxy(onProgress) : undefined));
    },
    cancel(id) {
      if (!api) return;
      void api.cancel(id);
      const reject = inflight.get(id);
      if (!reject) return;
      // A stage that never yields (one long kernel) cannot see the flag: stop the worker.
      setTimeout(() => {
        if (inflight.get(id) === reject) {
          reject(cancelledError());
          terminate();
        }
      }, hardCancelMs);
    },
    forget(id) {
      if (api) void api.forget(id);
    },
    terminate,
    get running() {
      return api !== null;
    },
  };
}
