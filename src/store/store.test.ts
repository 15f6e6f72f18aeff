import { describe, expect, it, vi } from 'vitest';
import { analysisResult } from '../services/test-fixtures';
import { camDiffers, camOf, createAppStore, detailsMissing, PHOTOS_IN_MEMORY, photoUnreadable, restoreSettings, selectSelected } from './index';

const blob = (type = 'image/jpeg') => new Blob([new Uint8Array([1, 2, 3])], { type });

describe('app store slices', () => {
  it('photos: queue, select, analyse anyway, retry, remove', () => {
    const s = createAppStore();
    const ids = s.getState().addPhotos([{ name: 'a.jpg', file: blob() }, { name: 'b.jpg', file: blob() }]);
    expect(ids).toHaveLength(2);
    expect(s.getState().photos.map((p) => p.status)).toEqual(['queued', 'queued']);
    expect(s.getState().selectedId).toBe(ids[0]);
    expect(s.getState().nextQueued()?.id).toBe(ids[0]);
    s.getState().updatePhoto(ids[0], { status: 'done' });
    expect(s.getState().nextQueued()?.id).toBe(ids[1]);
    s.getState().analyseAnyway(ids[0]);
    expect(s.getState().photos[0]).toMatchObject({ status: 'queued', force: true });
    s.getState().updatePhoto(ids[1], { status: 'error', error: { code: 'decode-failed', message: 'x' } });
    s.getState().retry(ids[1]);
    expect(s.getState().photos[1].error).toBeUndefined();
    s.getState().selectPhoto(ids[1]);
    expect(selectSelected(s.getState())?.name).toBe('b.jpg');
    s.getState().removePhoto(ids[1]);
    expect(s.getState().selectedId).toBe(ids[0]);
    expect(s.getState().addPhotos([])).toEqual([]);
  });

  it('photoUnreadable: only a file that could not be read as a photo, not a photo whose analysis failed', () => {
    const s = createAppStore();
    const [a, b, c, d] = s.getState().addPhotos(['a', 'b', 'c', 'd'].map((n) => ({ name: `${n}.jpg`, file: blob() })));
    const display = { bitmap: null, width: 8, height: 8, originalWidth: 8, originalHeight: 8 };
    s.getState().updatePhoto(a, { status: 'error', error: { code: 'decode-failed', message: 'not an image' } });
    s.getState().updatePhoto(b, { status: 'error', error: { code: 'image-too-small', message: '16 px' } });
    // no model: the photo itself is fine, it can be viewed and kept as a record to analyse later
    s.getState().updatePhoto(c, { status: 'error', error: { code: 'model-missing-file', message: 'weights.bin' } });
    // decoded, then the analysis failed: there is a photo to show
    s.getState().updatePhoto(d, { status: 'error', error: { code: 'invalid-image', message: 'x' }, display });
    const of = (id: string) => photoUnreadable(s.getState().photos.find((p) => p.id === id)!);
    expect([a, b, c, d].map(of)).toEqual([true, true, false, false]);
    s.getState().retry(a);
    expect(of(a)).toBe(false); // queued again: not an error any more
  });

  it(`memory: finished photos beyond the ${PHOTOS_IN_MEMORY} most recently used are shelved (bitmap closed, maps dropped, result kept); the shown one and one computing its guided maps never`, () => {
    const s = createAppStore();
    const closed: string[] = [];
    const ids = s.getState().addPhotos(Array.from({ length: 7 }, (_, i) => ({ name: `p${i}.jpg`, file: blob() })));
    for (const id of ids) {
      const r = analysisResult();
      r.maps = { gradCam: [{ label: 'hex', width: 8, height: 8, data: new Float32Array(64) }] };
      const bitmap = { close: () => closed.push(id) } as unknown as ImageBitmap;
      s.getState().updatePhoto(id, { status: 'done', result: r, preprocessed: { size: 8, rgba: new Uint8ClampedArray(256) }, display: { bitmap, width: 8, height: 8, originalWidth: 8, originalHeight: 8 } });
      s.getState().touchPhoto(id);
    }
    s.getState().updatePhoto(ids[1], { details: { status: 'computing', progress: 0.3 } });
    s.getState().updatePhoto(ids[2], { status: 'analysing' }); // re-analysed right now: in use
    s.getState().shelveIdle();
    const by = (id: string) => s.getState().photos.find((p) => p.id === id)!;
    const kept = s.getState().photos.filter((p) => !p.shelved).map((p) => p.id);
    // selected (p0), computing (p1), analysing (p2), and the three most recently used of the rest (p4–p6)
    expect(kept).toEqual([ids[0], ids[1], ids[2], ids[4], ids[5], ids[6]]);
    expect(closed).toEqual([ids[3]]);
    expect(by(ids[3])).toMatchObject({ shelved: { maps: true }, preprocessed: undefined, display: { bitmap: null, width: 8 } });
    expect(by(ids[3]).result?.maps).toBeUndefined();
    expect(by(ids[3]).result?.probabilities.hex).toBe(0.82);
    expect(detailsMissing(by(ids[3]), 'guided')).toBe(false); // the class maps come back first
    // showing a shelved photo: the runner restores it (the store leaves it shelved); the photo shown until now
    // counts as just used, so the least recently used of the others (p4) goes
    s.getState().selectPhoto(ids[3]);
    expect(by(ids[3]).shelved).toEqual({ maps: true });
    expect(by(ids[0]).shelved).toBeUndefined();
    expect(by(ids[4]).shelved).toEqual({ maps: true });
    expect(closed).toEqual([ids[3], ids[4]]);
    s.getState().removePhoto(ids[3]); // a shelved photo has no bitmap to close
    s.getState().clearPhotos();
    expect(closed.filter((id) => id === ids[3])).toHaveLength(1);
  });

  it('view: label toggles, opacity clamped, selecting a photo resets zoom', () => {
    const s = createAppStore();
    s.getState().toggleLabel('hex');
    expect(s.getState().labelsVisible).toEqual({ ma: true, hm: true, hex: false, cws: true });
    s.getState().setOpacity(4);
    expect(s.getState().opacity).toBe(1);
    s.getState().setOpacity(Number.NaN);
    expect(s.getState().opacity).toBe(0.6);
    s.getState().setView({ scale: 2, tx: 1, ty: 1 });
    s.getState().selectPhoto(null);
    expect(s.getState().view).toBeNull();
  });

  it('update prompt never reloads during an analysis; reloads when it ends via the deferred flag', () => {
    const s = createAppStore();
    const apply = vi.fn();
    s.getState().setUpdateReady(apply);
    s.getState().setBusy('p1');
    s.getState().deferUpdate();
    expect(apply).not.toHaveBeenCalled();
    expect(s.getState().update.deferred).toBe(true);
    s.getState().setBusy(null);
    const [id] = s.getState().addPhotos([{ name: 'next.jpg', file: blob() }]);
    s.getState().deferUpdate(); // between two queued photos: still waits
    expect(apply).not.toHaveBeenCalled();
    s.getState().updatePhoto(id, { status: 'done' });
    s.getState().deferUpdate();
    expect(apply).toHaveBeenCalledTimes(1);
  });

  it('settings persist to localStorage', async () => {
    localStorage.clear();
    const a = createAppStore({ persistSettings: true });
    a.getState().setBackend('wasm');
    a.getState().setColormap('viridis');
    const raw = JSON.parse(localStorage.getItem('funduslens.settings') ?? '{}');
    expect(raw.state.settings).toMatchObject({ backend: 'wasm', colormap: 'viridis' });
    const b = createAppStore({ persistSettings: true });
    expect(b.getState().settings.backend).toBe('wasm');
  });

  it('explanation map: Grad-CAM by default, HiResCAM persists, unknown values are refused', () => {
    localStorage.clear();
    const a = createAppStore({ persistSettings: true });
    expect(a.getState().settings.cam).toBe('gradcam');
    a.getState().setCam('hirescam');
    expect(JSON.parse(localStorage.getItem('funduslens.settings') ?? '{}').state.settings.cam).toBe('hirescam');
    a.getState().setCam('scorecam' as never);
    expect(a.getState().settings.cam).toBe('hirescam');
    const b = createAppStore({ persistSettings: true });
    expect(b.getState().settings.cam).toBe('hirescam');
  });

  it('settings stored before HiResCAM existed (no cam) load as Grad-CAM and keep the rest', () => {
    localStorage.clear();
    // exactly what the previous version wrote (version 1, settings without cam)
    localStorage.setItem(
      'funduslens.settings',
      JSON.stringify({ state: { settings: { backend: 'wasm', colormap: 'viridis', language: 'es' }, opacity: 0.4, overlay: 'guided' }, version: 1 }),
    );
    const s = createAppStore({ persistSettings: true });
    expect(s.getState().settings).toEqual({ backend: 'wasm', colormap: 'viridis', language: 'es', cam: 'gradcam' });
    expect(s.getState().opacity).toBe(0.4);
    expect(s.getState().overlay).toBe('guided');
    expect(restoreSettings({ cam: 'bogus' }).cam).toBe('gradcam');
    expect(restoreSettings(null)).toEqual({ backend: 'auto', colormap: 'inferno', language: 'en', cam: 'gradcam' });
  });

  it('a result without camMethod is Grad-CAM; re-analyse is offered when the setting differs, and requeues', () => {
    expect(camOf(analysisResult())).toBe('gradcam');
    expect(camOf(analysisResult({ camMethod: 'hirescam' }))).toBe('hirescam');
    const s = createAppStore();
    const [id] = s.getState().addPhotos([{ name: 'a.jpg', file: blob() }]);
    const photo = () => s.getState().photos[0];
    expect(camDiffers(photo(), 'hirescam')).toBe(false); // nothing to re-analyse yet
    s.getState().reanalyse(id); // not finished: ignored
    expect(photo().status).toBe('queued');
    s.getState().updatePhoto(id, { status: 'done', result: analysisResult(), details: { status: 'done' } });
    expect(camDiffers(photo(), 'gradcam')).toBe(false);
    expect(camDiffers(photo(), 'hirescam')).toBe(true);
    // an ungradable photo not analysed anyway has no maps: nothing to offer
    s.getState().updatePhoto(id, { result: analysisResult({ summary: 'ungradable' }) });
    expect(camDiffers(photo(), 'hirescam')).toBe(false);
    s.getState().updatePhoto(id, { result: analysisResult() });
    s.getState().reanalyse(id);
    expect(photo()).toMatchObject({ status: 'queued', details: undefined });
    expect(photo().result).toBeDefined(); // the old result stays on screen until the new one lands
  });
});
