/**
 * Lazy Guided Grad-CAM in the viewer: choosing a view that needs guided backprop asks the
 * runner for it once, shows a status line with Cancel while it runs, offers to compute again
 * after a cancel/failure, and Grad-CAM never asks.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import type { AnalysisResult, LabelSpec } from '../core/types';
import { appStore } from '../store';
import { analysisResult } from '../services/test-fixtures';
import { addPhoto, withDemoCard } from './test-fixtures';

const runner = vi.hoisted(() => ({ details: vi.fn(async () => {}), cancel: vi.fn() }));
vi.mock('../services/instance', () => ({ getRunner: () => runner }));
const { Viewer } = await import('./Viewer');

const labels: LabelSpec[] = [
  { id: 'ma', name: 'BP/MA', plainName: 'microaneurysms', colour: '#ff4fd8', threshold: 0.5 },
  { id: 'hex', name: 'HEX', plainName: 'hard exudates', colour: '#ffd500', threshold: 0.3 },
];

/** A 4×4 photo with a Grad-CAM map for hex, so the viewer has a map to draw. */
const result = (over: Partial<AnalysisResult> = {}): AnalysisResult =>
  analysisResult({
    transform: { inputSize: 4, photoWidth: 4, photoHeight: 4, scale: 1, offsetX: 0, offsetY: 0 },
    fov: { found: true, cx: 2, cy: 2, radius: 2, bbox: [0, 0, 4, 4], circleVisibleFraction: 1, coverage: 0.7 },
    maps: { gradCam: [{ label: 'hex', width: 4, height: 4, data: new Float32Array(16).fill(0.5) }] },
    ...over,
  });
const photo = (id: string) => appStore.getState().photos.find((p) => p.id === id)!;

withDemoCard(labels);
afterEach(() => {
  appStore.getState().setOverlay('gradcam');
  appStore.getState().setCam('gradcam');
  vi.clearAllMocks();
});

describe('Viewer — Guided Grad-CAM on demand', () => {
  it('Grad-CAM needs nothing; Guided Grad-CAM asks the runner once and shows "computing" with Cancel until the maps are there', () => {
    const id = addPhoto(result()).id;
    const { rerender } = render(<Viewer photo={photo(id)} />);
    const section = document.querySelector('[data-overlay-ready]')!;
    expect(section.getAttribute('data-overlay-ready')).toBe('gradcam');
    expect(screen.queryByTestId('details-status')).toBeNull();
    expect(runner.details).not.toHaveBeenCalled();

    act(() => fireEvent.click(screen.getByRole('radio', { name: 'Guided Grad-CAM' })));
    act(() => appStore.getState().updatePhoto(id, { details: { status: 'computing', progress: 0.4 } }));
    rerender(<Viewer photo={photo(id)} />);
    expect(runner.details).toHaveBeenCalledWith(id);
    expect(section.getAttribute('data-overlay-ready')).toBe('');
    expect(within(screen.getByTestId('details-status')).getByRole('status').textContent).toMatch(/Computing the fine-grained maps.*40%/);
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(runner.cancel).toHaveBeenCalledWith(id);

    // maps arrive: status gone, the view is ready; switching to combined asks nothing more
    const r = photo(id).result!;
    act(() =>
      appStore.getState().updatePhoto(id, {
        result: { ...r, maps: { ...r.maps!, guidedGradCam: [{ label: 'hex', width: 4, height: 4, data: new Float32Array(16) }], combined: new Float32Array(16) } },
        details: { status: 'done' },
      }),
    );
    rerender(<Viewer photo={photo(id)} />);
    expect(screen.queryByTestId('details-status')).toBeNull();
    expect(section.getAttribute('data-overlay-ready')).toBe('guided');
    const calls = runner.details.mock.calls.length;
    act(() => fireEvent.click(screen.getByRole('radio', { name: 'Combined (all positive labels)' })));
    rerender(<Viewer photo={photo(id)} />);
    expect(section.getAttribute('data-overlay-ready')).toBe('combined');
    expect(runner.details).toHaveBeenCalledTimes(calls);
  });

  it('after a cancel or a failure it does not restart by itself: it says why and offers to compute them', () => {
    appStore.getState().setOverlay('combined');
    const id = addPhoto(result(), { details: { status: 'error', error: { code: 'backend-failed', message: 'GPU lost' } } }).id;
    const { rerender } = render(<Viewer photo={photo(id)} />);
    expect(runner.details).not.toHaveBeenCalled();
    expect(within(screen.getByTestId('details-status')).getByRole('status').textContent).toBe('The fine-grained maps could not be computed: GPU lost');
    fireEvent.click(screen.getByRole('button', { name: 'Compute them' }));
    expect(runner.details).toHaveBeenCalledWith(id);
    act(() => appStore.getState().updatePhoto(id, { details: { status: 'cancelled' } }));
    rerender(<Viewer photo={photo(id)} />);
    expect(within(screen.getByTestId('details-status')).getByRole('status').textContent).toBe('The fine-grained maps were not computed.');
  });

  it('an ungradable photo analysed without force ran no model: nothing to compute', () => {
    appStore.getState().setOverlay('guided');
    const id = addPhoto(result({ summary: 'ungradable', maps: undefined, quality: { gradable: false, score: 0.2, reasons: ['x'], codes: ['blurred'], measures: {} } })).id;
    render(<Viewer photo={photo(id)} />);
    expect(runner.details).not.toHaveBeenCalled();
    expect(screen.queryByTestId('details-status')).toBeNull();
  });

  it('a refused photo offers no heat map or outline controls; analysed anyway, it does again', () => {
    const quality = { gradable: false, score: 0.2, reasons: ['x'], codes: ['blurred' as const], measures: {} };
    const refused = addPhoto(result({ summary: 'ungradable', maps: undefined, quality })).id;
    const { rerender } = render(<Viewer photo={photo(refused)} />);
    expect(screen.queryByRole('group', { name: 'Heat map' })).toBeNull();
    expect(screen.queryByRole('group', { name: 'Labels shown' })).toBeNull();
    expect(screen.getByRole('group', { name: 'Image' })).toBeTruthy();
    const forced = addPhoto(result({ summary: 'ungradable', forced: true, quality })).id;
    rerender(<Viewer photo={photo(forced)} />);
    expect(screen.getByRole('group', { name: 'Heat map' })).toBeTruthy();
    expect(screen.getByRole('group', { name: 'Labels shown' })).toBeTruthy();
  });
});

describe('Viewer — the overlay is named after the map the result carries', () => {
  const radios = () => screen.getAllByRole('radio').filter((r) => (r as HTMLInputElement).name === 'overlay').map((r) => r.closest('label')!.textContent);

  it('camMethod hirescam: HiResCAM / Guided HiResCAM, whatever the setting says', () => {
    const id = addPhoto(result({ camMethod: 'hirescam' })).id;
    render(<Viewer photo={photo(id)} />);
    expect(radios()).toEqual(['HiResCAM', 'Guided HiResCAM', 'Combined (all positive labels)', 'None']);
    expect(document.querySelector('[data-cam]')?.getAttribute('data-cam')).toBe('hirescam');
  });

  it('a result stored without camMethod (before HiResCAM) is Grad-CAM; switching the setting offers a re-analysis instead of relabelling', () => {
    const id = addPhoto(result()).id;
    const { rerender } = render(<Viewer photo={photo(id)} />);
    expect(radios()).toEqual(['Grad-CAM', 'Guided Grad-CAM', 'Combined (all positive labels)', 'None']);
    expect(screen.queryByTestId('cam-differs')).toBeNull();

    act(() => appStore.getState().setCam('hirescam'));
    rerender(<Viewer photo={photo(id)} />);
    expect(radios()).toEqual(['Grad-CAM', 'Guided Grad-CAM', 'Combined (all positive labels)', 'None']); // still the result's maps
    expect(screen.getByTestId('cam-differs').textContent).toMatch(/made with Grad-CAM; the settings now choose HiResCAM/);
    act(() => fireEvent.click(screen.getByRole('button', { name: 'Re-analyse with HiResCAM' })));
    expect(photo(id).status).toBe('queued'); // the runner picks it up with the new setting
    rerender(<Viewer photo={photo(id)} />);
    expect(screen.queryByTestId('cam-differs')).toBeNull(); // not offered twice while it runs
  });

  it('before a result the labels follow the setting (the analysis will use it)', () => {
    appStore.getState().setCam('hirescam');
    const id = addPhoto(undefined).id;
    render(<Viewer photo={photo(id)} />);
    expect(radios().slice(0, 2)).toEqual(['HiResCAM', 'Guided HiResCAM']);
  });
});

