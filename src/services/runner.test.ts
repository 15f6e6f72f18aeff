import { describe, expect, it, vi } from 'vitest';
import { createAppStore, PHOTOS_IN_MEMORY } from '../store';
import { startRunner } from './runner';
import type { AnalysisBridge } from './bridge';
import { photoChecksModeFrom, type AnalyzeResponse, type DecodedPhoto, type DetailsResponse, type ModelInfo } from './types';
import type { AnalysisResult } from '../core/types';
import { FundusLensError } from '../core/errors';
import { analysisResult } from './test-fixtures';

const meta = { name: 'demo', version: '0', labels: [] } as unknown as ModelInfo['metadata'];
const info: ModelInfo = { metadata: meta, backend: 'wasm', skipped: [], loadMs: 1, notices: [] };

const result = (summary: AnalysisResult['summary'], forced = false): AnalysisResult =>
  analysisResult({ summary, forced, quality: { gradable: summary !== 'ungradable', score: 0.9, reasons: [], codes: [], measures: {} }, model: 'demo@0' });

function fakeBridge(over: Partial<AnalysisBridge> = {}): AnalysisBridge & { calls: string[] } {
  const calls: string[] = [];
  const bitmap = { close() {} } as unknown as ImageBitmap;
  return {
    calls,
    running: true,
    ensureModel: vi.fn(async () => {
      calls.push('model');
      return info;
    }),
    decode: vi.fn(async (id: string, file: Blob): Promise<DecodedPhoto> => {
      calls.push(`decode:${id}`);
      if ((await file.text()) === 'corrupt') throw { name: 'FundusLensError', code: 'decode-failed', message: 'The file could not be decoded.' };
      return { bitmap, width: 10, height: 10, originalWidth: 20000, originalHeight: 10, decodeMs: 1 };
    }),
    analyze: vi.fn(async (id: string, _f: Blob, o, onProgress): Promise<AnalyzeResponse> => {
      calls.push(`analyze:${id}:${o.force ? 'force' : ''}`);
      onProgress?.('forward', 0.5);
      return { result: result(o.force ? 'dr-signs' : 'ungradable', !!o.force), preprocessed: null, notices: [] };
    }),
    details: vi.fn(async (id: string, _f: Blob, _r: AnalysisResult, onProgress): Promise<DetailsResponse> => {
      calls.push(`details:${id}`);
      onProgress?.('guidedBackprop', 0.5);
      return { guidedGradCam: [{ label: 'hex', width: 8, height: 8, data: new Float32Array(64).fill(0.5) }], combined: new Float32Array(64).fill(1), timingsMs: { guidedBackprop: 42, total: 50 }, notices: [] };
    }),
    cancel: vi.fn(),
    forget: vi.fn(),
    terminate: vi.fn(),
    ...over,
  };
}

const img = (text = 'x') => new Blob([text], { type: 'image/jpeg' });

describe('queue runner (fake bridge)', () => {
  it('decodes then analyses each photo in order; a bad one does not stop the queue', async () => {
    const store = createAppStore();
    const bridge = fakeBridge();
    const r = startRunner({ store, bridge, modelUrl: '/m/', wasmPaths: {} });
    const [a, b, c, d] = store.getState().addPhotos([
      { name: 'a.jpg', file: img() },
      { name: 'notes.txt', file: new Blob(['hello'], { type: 'text/plain' }) },
      { name: 'bad.jpg', file: img('corrupt') },
      { name: 'd.jpg', file: img() },
    ]);
    await r.whenIdle();
    const by = (id: string) => store.getState().photos.find((p) => p.id === id)!;
    expect(by(a).status).toBe('done');
    expect(by(a).result?.summary).toBe('ungradable');
    expect(by(b)).toMatchObject({ status: 'error', error: { code: 'invalid-image' } });
    expect(by(b).error?.message).toMatch(/not an image/);
    expect(by(c)).toMatchObject({ status: 'error', error: { code: 'decode-failed' } });
    expect(by(d).status).toBe('done');
    expect(by(a).notices.map((n) => n.code)).toContain('downscaled');
    expect(by(a).result?.timingsMs.decode).toBe(1); // decode time from the worker joins the stage timings
    expect(bridge.calls.filter((x) => x.startsWith('analyze'))).toEqual([`analyze:${a}:`, `analyze:${d}:`]);
    expect(store.getState().model.status).toBe('ready');
    expect(store.getState().busyId).toBeNull();
    r.stop();
  });

  it('"analyse anyway" re-runs with force and keeps the decoded photo', async () => {
    const store = createAppStore();
    const bridge = fakeBridge();
    const r = startRunner({ store, bridge, modelUrl: '/m/', wasmPaths: {} });
    const [a] = store.getState().addPhotos([{ name: 'a.jpg', file: img() }]);
    await r.whenIdle();
    store.getState().analyseAnyway(a);
    await new Promise((res) => setTimeout(res, 0));
    await r.whenIdle();
    const p = store.getState().photos[0];
    expect(p.result).toMatchObject({ summary: 'dr-signs', forced: true });
    expect(bridge.calls.filter((x) => x.startsWith('decode'))).toHaveLength(1);
    r.stop();
  });

  it('a model that fails to load: photos stay queued and viewable, error kept; retry recovers', async () => {
    const store = createAppStore();
    let fail = true;
    const bridge = fakeBridge({
      ensureModel: vi.fn(async () => {
        if (fail) throw new FundusLensError('model-missing-file', 'metadata.json is missing', 'metadata.json');
        return info;
      }),
    });
    const r = startRunner({ store, bridge, modelUrl: '/m/', wasmPaths: {} });
    store.getState().addPhotos([{ name: 'a.jpg', file: img() }, { name: 'b.jpg', file: img() }]);
    await r.whenIdle();
    expect(store.getState().model).toMatchObject({ status: 'error', error: { code: 'model-missing-file', file: 'metadata.json' } });
    expect(store.getState().photos.map((p) => [p.status, !!p.display])).toEqual([['queued', true], ['queued', true]]);
    fail = false;
    r.retryModel();
    await new Promise((res) => setTimeout(res, 0));
    await r.whenIdle();
    expect(store.getState().photos.map((p) => p.status)).toEqual(['done', 'done']);
    r.stop();
  });

  it('cancel: a queued photo is cancelled at once; a running one through the bridge', async () => {
    const store = createAppStore();
    let rejectRun: ((e: unknown) => void) | null = null;
    const bridge = fakeBridge({
      analyze: vi.fn(() => new Promise<AnalyzeResponse>((_, rej) => (rejectRun = rej))),
      cancel: vi.fn(() => rejectRun?.(new FundusLensError('cancelled', 'Analysis cancelled.'))),
    });
    const r = startRunner({ store, bridge, modelUrl: '/m/', wasmPaths: {} });
    const [a, b] = store.getState().addPhotos([{ name: 'a.jpg', file: img() }, { name: 'b.jpg', file: img() }]);
    r.cancel(b);
    await vi.waitFor(() => expect(store.getState().photos[0].status).toBe('analysing'));
    r.cancel(a);
    await r.whenIdle();
    expect(store.getState().photos.map((p) => p.status)).toEqual(['cancelled', 'cancelled']);
    expect(bridge.cancel).toHaveBeenCalledWith(a);
    r.stop();
  });

  it('changing the backend setting makes the next analysis reload the model', async () => {
    const store = createAppStore();
    const bridge = fakeBridge();
    const r = startRunner({ store, bridge, modelUrl: '/m/', wasmPaths: {} });
    store.getState().addPhotos([{ name: 'a.jpg', file: img() }]);
    await r.whenIdle();
    store.getState().setBackend('webgl');
    expect(store.getState().model.status).toBe('idle');
    store.getState().addPhotos([{ name: 'b.jpg', file: img() }]);
    await new Promise((res) => setTimeout(res, 0));
    await r.whenIdle();
    expect(vi.mocked(bridge.ensureModel).mock.calls.at(-1)?.[0]).toMatchObject({ backend: 'webgl' });
    r.stop();
  });

  it('lazy guided backprop: the queue asks for Grad-CAM only; details() computes the guided maps once, on demand, and merges them', async () => {
    const store = createAppStore();
    const bridge = fakeBridge({
      analyze: vi.fn(async (id: string, _f: Blob, o): Promise<AnalyzeResponse> => {
        bridge.calls.push(`analyze:${id}:${o.maps}`);
        const r = result('dr-signs');
        r.maps = { gradCam: [{ label: 'hex', width: 8, height: 8, data: new Float32Array(64) }] };
        return { result: r, preprocessed: null, notices: [] };
      }),
    });
    const r = startRunner({ store, bridge, modelUrl: '/m/', wasmPaths: {} });
    const [a] = store.getState().addPhotos([{ name: 'a.jpg', file: img() }]);
    await r.whenIdle();
    const by = () => store.getState().photos.find((p) => p.id === a)!;
    expect(bridge.calls).toContain(`analyze:${a}:gradcam`);
    expect(bridge.details).not.toHaveBeenCalled();
    expect(by().result?.maps?.guidedGradCam).toBeUndefined();
    expect(by().details).toBeUndefined();

    const states: string[] = [];
    const unsub = store.subscribe((s) => {
      const d = s.photos[0]?.details;
      if (d) states.push(`${d.status}${d.progress !== undefined ? `:${d.progress}` : ''}`);
    });
    const first = r.details(a);
    expect(r.details(a)).toBe(first); // one job per photo
    await first;
    unsub();
    expect(states[0]).toBe('computing:0');
    expect(states).toContain('computing:0.5');
    expect(states.at(-1)).toBe('done');
    const after = by();
    expect(after.result?.maps?.gradCam).toHaveLength(1); // Grad-CAM kept
    expect(after.result?.maps?.guidedGradCam?.map((m) => m.label)).toEqual(['hex']);
    expect(after.result?.maps?.combined?.[0]).toBe(1);
    expect(after.result?.timingsMs.guidedBackprop).toBe(42);
    expect(after.result?.summary).toBe('dr-signs');
    await r.details(a); // cached: no second pass
    expect(bridge.details).toHaveBeenCalledTimes(1);
    r.stop();
  });

  it('details: waits for the running analysis (one worker job at a time), cancel marks it, and a re-analysed photo keeps its new result', async () => {
    const store = createAppStore();
    let finishB: (() => void) | null = null;
    let rejectDetails: ((e: unknown) => void) | null = null;
    const order: string[] = [];
    const bridge = fakeBridge();
    bridge.analyze = vi.fn(async (id: string, _f: Blob, o): Promise<AnalyzeResponse> => {
      order.push(`analyze:${id}:start`);
      if (store.getState().photos.findIndex((p) => p.id === id) === 1) await new Promise<void>((res) => (finishB = res));
      order.push(`analyze:${id}:end`);
      return { result: result(o.force ? 'dr-signs' : 'healthy', !!o.force), preprocessed: null, notices: [] };
    });
    bridge.details = vi.fn((id: string) => {
      order.push(`details:${id}`);
      return new Promise<DetailsResponse>((_, rej) => (rejectDetails = rej));
    });
    bridge.cancel = vi.fn(() => rejectDetails?.(new FundusLensError('cancelled', 'Analysis cancelled.')));
    const r = startRunner({ store, bridge, modelUrl: '/m/', wasmPaths: {} });
    const [a] = store.getState().addPhotos([{ name: 'a.jpg', file: img() }]);
    await r.whenIdle();
    const [b] = store.getState().addPhotos([{ name: 'b.jpg', file: img() }]);
    await vi.waitFor(() => expect(finishB).not.toBeNull());
    const job = r.details(a); // asked while b is being analysed
    await new Promise((res) => setTimeout(res, 10));
    expect(order).not.toContain(`details:${a}`);
    expect(store.getState().photos[0].details?.status).toBe('computing');
    finishB!();
    await vi.waitFor(() => expect(order).toContain(`details:${a}`));
    expect(order.indexOf(`analyze:${b}:end`)).toBeLessThan(order.indexOf(`details:${a}`));
    r.cancel(a);
    await job;
    expect(bridge.cancel).toHaveBeenCalledWith(a);
    expect(store.getState().photos[0].details?.status).toBe('cancelled');
    expect(store.getState().photos[0].status).toBe('done'); // the analysis itself stays

    // a result replaced while its maps were computed is never overwritten by them
    bridge.details = vi.fn(async (): Promise<DetailsResponse> => {
      store.getState().analyseAnyway(a); // the user re-runs the analysis meanwhile
      return { guidedGradCam: [], combined: new Float32Array(64), timingsMs: {}, notices: [] };
    });
    await r.details(a);
    await new Promise((res) => setTimeout(res, 0));
    await r.whenIdle();
    const p = store.getState().photos[0];
    expect(p.result).toMatchObject({ summary: 'dr-signs', forced: true });
    expect(p.result?.maps?.guidedGradCam).toBeUndefined();
    expect(p.details).toBeUndefined();
    r.stop();
  });

  it('preload: loads the model before any photo (once); the first photo then only decodes and analyses', async () => {
    const store = createAppStore();
    const bridge = fakeBridge();
    const r = startRunner({ store, bridge, modelUrl: '/m/', wasmPaths: {} });
    r.preload();
    r.preload();
    await vi.waitFor(() => expect(store.getState().model.status).toBe('ready'));
    expect(bridge.ensureModel).toHaveBeenCalledTimes(1);
    expect(bridge.calls).toEqual(['model']);
    store.getState().addPhotos([{ name: 'a.jpg', file: img() }]);
    await new Promise((res) => setTimeout(res, 0));
    await r.whenIdle();
    expect(store.getState().photos[0].status).toBe('done');
    r.preload(); // a loaded model is not loaded again
    expect(bridge.calls.filter((c) => c === 'model').length).toBe(2); // preload + the photo's (cheap) ensureModel, nothing more
    r.stop();
  });

  it('cam: each analysis asks for the method set at the time; switching it keeps the model and the done results, re-analyse uses the new one', async () => {
    const store = createAppStore();
    const bridge = fakeBridge({
      analyze: vi.fn(async (id: string, _f: Blob, o): Promise<AnalyzeResponse> => {
        bridge.calls.push(`analyze:${id}:${o.cam}`);
        return { result: { ...result('dr-signs'), camMethod: o.cam }, preprocessed: null, notices: [] };
      }),
    });
    const r = startRunner({ store, bridge, modelUrl: '/m/', wasmPaths: {} });
    const [a] = store.getState().addPhotos([{ name: 'a.jpg', file: img() }]);
    await r.whenIdle();
    expect(vi.mocked(bridge.ensureModel).mock.calls[0][0]).toMatchObject({ cam: 'gradcam' });
    const by = (id: string) => store.getState().photos.find((p) => p.id === id)!;
    expect(by(a).result?.camMethod).toBe('gradcam');

    store.getState().setCam('hirescam');
    expect(store.getState().model.status).toBe('ready'); // a new map needs no model reload
    expect(by(a)).toMatchObject({ status: 'done', result: { camMethod: 'gradcam' } }); // done photos keep theirs
    const [b] = store.getState().addPhotos([{ name: 'b.jpg', file: img() }]);
    await new Promise((res) => setTimeout(res, 0));
    await r.whenIdle();
    expect(by(b).result?.camMethod).toBe('hirescam');
    expect(vi.mocked(bridge.ensureModel).mock.calls.at(-1)?.[0]).toMatchObject({ cam: 'hirescam' });

    // the guided maps of the old result are computed on ITS method (the result crosses with camMethod)
    await r.details(a);
    expect(vi.mocked(bridge.details).mock.calls[0][2].camMethod).toBe('gradcam');

    store.getState().reanalyse(a);
    await new Promise((res) => setTimeout(res, 0));
    await r.whenIdle();
    expect(by(a).result?.camMethod).toBe('hirescam');
    expect(by(a).result?.maps?.guidedGradCam).toBeUndefined(); // the old guided maps are gone with the old result
    expect(bridge.calls.filter((c) => c.startsWith('analyze'))).toEqual([`analyze:${a}:gradcam`, `analyze:${b}:hirescam`, `analyze:${a}:hirescam`]);
    expect(bridge.calls.filter((c) => c.startsWith('decode'))).toHaveLength(2); // no second decode
    r.stop();
  });
});

describe('a long queue keeps only a few photos in memory (store shelveIdle, runner restore)', () => {
  /** a bridge whose photos have real-looking maps and closable bitmaps; counts the bitmaps still open */
  function mapsBridge(probability = (n: number) => 0.5 + n / 100) {
    let open = 0;
    let run = 0;
    const bridge = fakeBridge({
      decode: vi.fn(async (id: string): Promise<DecodedPhoto> => {
        bridge.calls.push(`decode:${id}`);
        open++;
        let closed = false;
        const bitmap = { close: () => { if (!closed) { closed = true; open--; } } } as unknown as ImageBitmap;
        return { bitmap, width: 10, height: 10, originalWidth: 10, originalHeight: 10, decodeMs: 1 };
      }),
      analyze: vi.fn(async (id: string, _f: Blob, o): Promise<AnalyzeResponse> => {
        bridge.calls.push(`analyze:${id}:${o.cam}`);
        const r = result('dr-signs');
        r.probabilities = { ...r.probabilities, hex: probability(run++) };
        r.maps = { gradCam: [{ label: 'hex', width: 8, height: 8, data: new Float32Array(64).fill(0.25) }] };
        return { result: r, preprocessed: { size: 8, rgba: new Uint8ClampedArray(256) }, notices: [] };
      }),
    });
    return { bridge, open: () => open };
  }

  /** a runner that has finished a queue of `n` photos with maps */
  async function finishedQueue(n: number) {
    const store = createAppStore();
    const { bridge, open } = mapsBridge();
    const r = startRunner({ store, bridge, modelUrl: '/m/', wasmPaths: {} });
    const ids = store.getState().addPhotos(Array.from({ length: n }, (_, i) => ({ name: `p${i}.jpg`, file: img() })));
    await r.whenIdle();
    return { store, bridge, open, r, ids, by: (id: string) => store.getState().photos.find((p) => p.id === id)! };
  }

  it(`after a batch only ${PHOTOS_IN_MEMORY} finished photos hold pixels, maps and the preprocessed view (the shown one among them); the rest keep their results`, async () => {
    const store = createAppStore();
    const { bridge, open } = mapsBridge();
    const r = startRunner({ store, bridge, modelUrl: '/m/', wasmPaths: {} });
    const ids = store.getState().addPhotos(Array.from({ length: 10 }, (_, i) => ({ name: `p${i}.jpg`, file: img() })));
    await r.whenIdle();
    const photos = store.getState().photos;
    const inMemory = photos.filter((p) => p.display?.bitmap || p.result?.maps || p.preprocessed);
    expect(inMemory).toHaveLength(PHOTOS_IN_MEMORY);
    expect(open()).toBe(PHOTOS_IN_MEMORY); // the others' bitmaps were closed
    // the shown photo (the batch's first) and the three finished last
    expect(inMemory.map((p) => p.id)).toEqual([ids[0], ids[7], ids[8], ids[9]]);
    for (const p of photos) {
      expect(p.status).toBe('done');
      expect(p.result?.probabilities.hex).toBeGreaterThan(0); // every verdict stays
      expect(!!p.shelved).toBe(!inMemory.includes(p));
      if (p.shelved) expect(p.display).toMatchObject({ bitmap: null, width: 10, originalWidth: 10 });
    }
    r.stop();
  });

  it('restore: a shelved photo is decoded and analysed again with its own method; its shown result is kept, the maps come back, another photo is shelved', async () => {
    const { store, bridge, open, r, ids, by } = await finishedQueue(6);
    const target = ids[1];
    expect(by(target).shelved).toEqual({ maps: true });
    const shown = by(target).result!;
    store.getState().setCam('hirescam');
    store.getState().selectPhoto(target);
    bridge.calls.length = 0;
    await Promise.all([r.restore(target), r.restore(target)]); // one job
    const jobs = () => bridge.calls.filter((c) => c !== 'model');
    expect(jobs()).toEqual([`decode:${target}`, `analyze:${target}:gradcam`]); // the result's method, not the setting
    const back = by(target);
    expect(back.shelved).toBeUndefined();
    expect(back.display?.bitmap).not.toBeNull();
    expect(back.result?.maps?.gradCam[0].data[0]).toBe(0.25);
    expect(back.preprocessed?.size).toBe(8);
    expect(back.result?.probabilities).toEqual(shown.probabilities); // what the user saw (the re-run differs here on purpose)
    expect(store.getState().photos.filter((p) => p.display?.bitmap)).toHaveLength(PHOTOS_IN_MEMORY);
    expect(open()).toBe(PHOTOS_IN_MEMORY);
    await r.restore(target); // not shelved: nothing to do
    expect(jobs()).toHaveLength(2);
    r.stop();
  });

  it('details() on a shelved photo restores it first, then computes the guided maps over the recovered class maps', async () => {
    const { store, bridge, r, ids, by } = await finishedQueue(6);
    const target = ids[2];
    store.getState().selectPhoto(target);
    bridge.calls.length = 0;
    await r.details(target);
    expect(bridge.calls.filter((c) => c !== 'model')).toEqual([`decode:${target}`, `analyze:${target}:gradcam`, `details:${target}`]);
    const p = by(target);
    expect(p.result?.maps?.gradCam).toHaveLength(1);
    expect(p.result?.maps?.guidedGradCam).toHaveLength(1);
    expect(p.details?.status).toBe('done');
    r.stop();
  });

  it('a failed restore is recorded on the photo and not retried behind the user\'s back', async () => {
    const { bridge, r, ids, by } = await finishedQueue(6);
    (bridge.decode as ReturnType<typeof vi.fn>).mockImplementationOnce(async () => {
      throw new FundusLensError('decode-failed', 'The file is no longer readable.');
    });
    expect(by(ids[1]).shelved).toEqual({ maps: true });
    await r.restore(ids[1]);
    const failed = by(ids[1]);
    expect(failed.shelved?.failed).toMatch(/no longer readable/);
    const calls = bridge.calls.length;
    await r.details(failed.id); // a failed restore is not retried behind the user's back
    expect(bridge.calls).toHaveLength(calls);
    r.stop();
  });
});

describe('where the photo checks run', () => {
  it('?photo-checks=worker|inline is read from the URL query, anything else is auto', () => {
    expect(photoChecksModeFrom('?backend=wasm&photo-checks=worker')).toBe('worker');
    expect(photoChecksModeFrom('?photo-checks=inline')).toBe('inline');
    expect(photoChecksModeFrom('?photo-checks=gpu')).toBe('auto');
    expect(photoChecksModeFrom('')).toBe('auto');
  });

  it('the runner passes the mode to the worker when loading the model, and leaves it out by default', async () => {
    for (const photoChecks of ['worker', undefined] as const) {
      const store = createAppStore();
      const bridge = fakeBridge();
      const r = startRunner({ store, bridge, modelUrl: '/m/', wasmPaths: {}, photoChecks });
      r.preload();
      await vi.waitFor(() => expect(bridge.ensureModel).toHaveBeenCalled());
      const init = (bridge.ensureModel as ReturnType<typeof vi.fn>).mock.calls[0][0];
      expect(init.photoChecks).toBe(photoChecks);
      r.stop();
    }
  });
});
