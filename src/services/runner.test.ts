import { describe, expect, it, vi } from 'vitest';
import { createAppStore } from '../store';
import { startRunner } from './runner';
import type { AnalysisBridge } from './bridge';
import type { AnalyzeResponse, DecodedPhoto, ModelInfo } from './types';
import type { AnalysisResult } from '../core/types';
import { FundusLensError } from '../core/errors';

const meta = { name: 'demo', version: '0', labels: [] } as unknown as ModelInfo['metadata'];
const info: ModelInfo = { metadata: meta, backend: 'wasm', skipped: [], loadMs: 1, notices: [] };

function result(summary: AnalysisResult['summary'], forced = false): AnalysisResult {
  return {
    quality: { gradable: summary !== 'ungradable', score: 0.9, reasons: [], codes: [], measures: {} },
    forced,
    probabilities: { ma: 0.1, hm: 0.1, hex: 0.9, cws: 0.1, healthy: 0.1 },
    positive: { ma: false, hm: false, hex: true, cws: false, healthy: false },
    summary,
    outlines: [],
    transform: { inputSize: 8, photoWidth: 10, photoHeight: 10, scale: 1, offsetX: 0, offsetY: 0 },
    fov: { found: true, cx: 5, cy: 5, radius: 5, bbox: [0, 0, 10, 10], circleVisibleFraction: 1, coverage: 0.7 },
    timingsMs: { total: 5 },
    backend: 'wasm',
    model: 'demo@0',
  };
}

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
});
