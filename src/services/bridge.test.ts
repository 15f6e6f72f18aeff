import { describe, expect, it, vi } from 'vitest';
import { createBridge } from './bridge';
import type { AnalysisWorkerApi, ModelInfo, WorkerInit } from './types';

const init: WorkerInit = { modelUrl: '/models/demo/', backend: 'wasm', wasmPaths: {} };

function fakeWorld(analyzeImpl?: AnalysisWorkerApi['analyze'], detailsImpl?: AnalysisWorkerApi['details']) {
  const workers: { terminated: boolean }[] = [];
  const inits: WorkerInit[] = [];
  const createWorker = () => {
    const w = { terminated: false, terminate() { this.terminated = true; }, addEventListener() {} };
    workers.push(w);
    return w as unknown as Worker;
  };
  const wrap = (): AnalysisWorkerApi => ({
    init: async (o) => {
      inits.push(o);
      return { backend: o.backend === 'auto' ? 'webgl' : o.backend, skipped: [], loadMs: 1, notices: [], metadata: {} } as unknown as ModelInfo;
    },
    decode: async () => ({ bitmap: {} as ImageBitmap, width: 1, height: 1, originalWidth: 1, originalHeight: 1, decodeMs: 0 }),
    analyze: analyzeImpl ?? (async () => ({ result: {} as never, preprocessed: null, notices: [] })),
    details: detailsImpl ?? (async () => ({ guidedGradCam: [], combined: new Float32Array(4), timingsMs: {}, notices: [] })),
    cancel: () => {},
    forget: () => {},
  });
  return { workers, inits, createWorker, wrap };
}

describe('worker bridge', () => {
  it('starts lazily, loads the model once per options, terminates when idle and re-loads after', async () => {
    vi.useFakeTimers();
    const w = fakeWorld();
    const b = createBridge({ createWorker: w.createWorker, wrap: w.wrap, idleMs: 1000 });
    expect(w.workers).toHaveLength(0);
    expect(b.running).toBe(false);
    await b.ensureModel(init);
    await b.ensureModel(init);
    expect(w.inits).toHaveLength(1);
    await b.analyze('p1', new Blob(), {});
    expect(b.running).toBe(true);
    await vi.advanceTimersByTimeAsync(1500);
    expect(b.running).toBe(false);
    expect(w.workers[0].terminated).toBe(true);
    await b.analyze('p2', new Blob(), {}); // a fresh worker gets the model again by itself
    expect(w.workers).toHaveLength(2);
    expect(w.inits).toHaveLength(2);
    await b.ensureModel({ ...init, backend: 'webgl' });
    expect(w.inits.at(-1)?.backend).toBe('webgl');
    vi.useRealTimers();
  });

  it('hard-cancels an analysis that does not stop by itself: rejects with cancelled and stops the worker', async () => {
    vi.useFakeTimers();
    const w = fakeWorld(() => new Promise(() => {})); // never settles
    const b = createBridge({ createWorker: w.createWorker, wrap: w.wrap, hardCancelMs: 500 });
    await b.ensureModel(init);
    const run = b.analyze('p1', new Blob(), {});
    const settled = run.catch((e) => e);
    await vi.advanceTimersByTimeAsync(10);
    b.cancel('p1');
    await vi.advanceTimersByTimeAsync(600);
    const err = await settled;
    expect(err).toMatchObject({ code: 'cancelled' });
    expect(w.workers[0].terminated).toBe(true);
    vi.useRealTimers();
  });

  it('turns plain error objects from the worker into FundusLensErrors with their code', async () => {
    const w = fakeWorld(async () => {
      throw { name: 'FundusLensError', code: 'model-bad-hash', message: 'group1-shard1of1.bin does not match', file: 'group1-shard1of1.bin' };
    });
    const b = createBridge({ createWorker: w.createWorker, wrap: w.wrap });
    await expect(b.analyze('p', new Blob(), {})).rejects.toMatchObject({ name: 'FundusLensError', code: 'model-bad-hash', file: 'group1-shard1of1.bin' });
    b.terminate();
  });

  it('details: the result crosses without its maps, the model is (re)loaded first, and cancel stops it like an analysis', async () => {
    vi.useFakeTimers();
    const seen: unknown[] = [];
    const w = fakeWorld(undefined, (_id, _file, result) => {
      seen.push(result);
      return new Promise(() => {}); // never settles: only a hard cancel ends it
    });
    const b = createBridge({ createWorker: w.createWorker, wrap: w.wrap, hardCancelMs: 500 });
    await b.ensureModel(init);
    const result = { model: 'demo@1', maps: { gradCam: [{ label: 'ma', width: 2, height: 2, data: new Float32Array(4) }] } } as never;
    const run = b.details('p1', new Blob(), result).catch((e) => e);
    await vi.advanceTimersByTimeAsync(10);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toEqual({ model: 'demo@1' }); // 4 Grad-CAM maps need not be copied to the worker
    expect((result as { maps: unknown }).maps).toBeDefined(); // the caller's result is untouched
    b.cancel('p1');
    await vi.advanceTimersByTimeAsync(600);
    expect(await run).toMatchObject({ code: 'cancelled' });
    expect(w.workers[0].terminated).toBe(true);
    vi.useRealTimers();
  });

  it('cam: analyze and details pass the method through; switching it alone does not reload the model, a restarted worker warms the new one', async () => {
    vi.useFakeTimers();
    const analysed: unknown[] = [];
    const detailed: unknown[] = [];
    const w = fakeWorld(
      async (_id, _file, o) => {
        analysed.push(o);
        return { result: {} as never, preprocessed: null, notices: [] };
      },
      async (_id, _file, result) => {
        detailed.push(result);
        return { guidedGradCam: [], combined: new Float32Array(4), timingsMs: {}, notices: [] };
      },
    );
    const b = createBridge({ createWorker: w.createWorker, wrap: w.wrap, idleMs: 1000 });
    await b.ensureModel({ ...init, cam: 'gradcam' });
    await b.ensureModel({ ...init, cam: 'hirescam' });
    expect(w.inits).toHaveLength(1); // no reload for a new explanation map
    expect(w.inits[0].cam).toBe('gradcam');
    await b.analyze('p1', new Blob(), { maps: 'gradcam', cam: 'hirescam' });
    expect(analysed[0]).toMatchObject({ maps: 'gradcam', cam: 'hirescam' });
    const result = { model: 'demo@1', camMethod: 'hirescam', maps: { gradCam: [] } } as never;
    await b.details('p1', new Blob(), result);
    expect(detailed[0]).toEqual({ model: 'demo@1', camMethod: 'hirescam' }); // explainDetails reads it
    await vi.advanceTimersByTimeAsync(1500); // idle: the worker stops
    expect(b.running).toBe(false);
    await b.analyze('p2', new Blob(), { cam: 'hirescam' });
    expect(w.inits).toHaveLength(2);
    expect(w.inits[1].cam).toBe('hirescam'); // the fresh worker warms what the analyses now use
    b.terminate();
    vi.useRealTimers();
  });
});
