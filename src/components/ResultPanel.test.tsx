import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import type { AnalysisResult, LabelSpec } from '../core/types';
import { initI18n } from '../i18n';
import { appStore, type PhotoItem } from '../store';
import { ResultPanel } from './ResultPanel';

const labels: LabelSpec[] = [
  { id: 'ma', name: 'BP/MA', plainName: 'small spots of bleeding (microaneurysms)', colour: '#ff4fd8', threshold: 0.5 },
  { id: 'hm', name: 'HM', plainName: 'bleeding (haemorrhages)', colour: '#e0202a', threshold: 0.4 },
  { id: 'hex', name: 'HEX', plainName: 'fatty deposits (hard exudates)', colour: '#ffd500', threshold: 0.3 },
  { id: 'cws', name: 'CWS', plainName: 'swollen nerve fibres (cotton wool spots)', colour: '#2f7bff', threshold: 0.5 },
  { id: 'healthy', name: 'Healthy', plainName: 'no signs found', colour: null, threshold: 0.5 },
];

function result(over: Partial<AnalysisResult>): AnalysisResult {
  return {
    quality: { gradable: true, score: 0.91, reasons: [], codes: [], measures: { sharpness: 12.5 } },
    forced: false,
    probabilities: { ma: 0.1, hm: 0.2, hex: 0.82, cws: 0.05, healthy: 0.1 },
    positive: { ma: false, hm: false, hex: true, cws: false, healthy: false },
    summary: 'dr-signs',
    outlines: [],
    transform: { inputSize: 8, photoWidth: 10, photoHeight: 10, scale: 1, offsetX: 0, offsetY: 0 },
    fov: { found: true, cx: 5, cy: 5, radius: 5, bbox: [0, 0, 10, 10], circleVisibleFraction: 1, coverage: 0.7 },
    timingsMs: { quality: 12, forward: 210.4, total: 400 },
    backend: 'wasm',
    model: 'demo@1.0.0',
    ...over,
  };
}

function addPhoto(r: AnalysisResult | undefined, patch: Partial<PhotoItem> = {}): PhotoItem {
  const [id] = appStore.getState().addPhotos([{ name: 'eye.jpg', file: new Blob(['x'], { type: 'image/jpeg' }) }]);
  appStore.getState().updatePhoto(id, { status: r ? 'done' : 'analysing', result: r, ...patch });
  return appStore.getState().photos.find((p) => p.id === id)!;
}

beforeAll(() => {
  initI18n('en');
  appStore.getState().setCard({ status: 'ready', metadata: { labels, name: 'demo' } as never });
});
afterEach(() => {
  cleanup();
  appStore.getState().clearPhotos();
});

describe('ResultPanel', () => {
  it('gradable DR photo: verdict first, summary names the lesions, bars with threshold and a non-colour positive marker', () => {
    render(<ResultPanel photo={addPhoto(result({}))} />);
    const verdict = screen.getByTestId('quality-verdict');
    const summary = screen.getByTestId('summary');
    expect(verdict.textContent).toMatch(/Gradable photo \(quality score 0\.91\)/);
    expect(verdict.compareDocumentPosition(summary) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(summary.textContent).toBe('Signs of diabetic retinopathy: HEX — fatty deposits (hard exudates).');
    const hex = screen.getByRole('img', { name: /HEX: probability 82%, threshold 30%, positive/ });
    expect(hex).toBeTruthy();
    expect(screen.getByRole('img', { name: /HM: probability 20%, threshold 40%, below threshold/ })).toBeTruthy();
    const hexRow = hex.closest('li')!;
    expect(within(hexRow).getByText('positive')).toBeTruthy();
    expect((hexRow.querySelector('.bar-threshold') as HTMLElement).style.left).toBe('30%');
    expect(screen.getByTestId('model-name').textContent).toBe('demo@1.0.0');
    expect(screen.getByTestId('backend').textContent).toBe('wasm');
    expect(screen.getByText('210 ms')).toBeTruthy();
  });

  it('ungradable photo: reasons, retake advice, no probabilities; "analyse anyway" requeues with force', () => {
    const r = result({
      summary: 'ungradable',
      quality: { gradable: false, score: 0.2, reasons: ['too dark — increase illumination and retake'], codes: ['too-dark'], measures: {} },
      probabilities: { ma: 0, hm: 0, hex: 0, cws: 0, healthy: 0 },
      positive: { ma: false, hm: false, hex: false, cws: false, healthy: false },
    });
    const p = addPhoto(r);
    render(<ResultPanel photo={p} />);
    expect(screen.getByText(/Ungradable photo/)).toBeTruthy();
    expect(screen.getByText(/too dark/)).toBeTruthy();
    expect(screen.getByText(/Retake the photo: check focus/)).toBeTruthy();
    expect(screen.getByTestId('summary').textContent).toMatch(/Ungradable — no screening result/);
    expect(screen.queryByRole('list', { name: 'Label probabilities' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Analyse anyway' }));
    expect(appStore.getState().photos.find((x) => x.id === p.id)).toMatchObject({ force: true, status: 'queued' });
  });

  it('forced result is marked as such', () => {
    render(<ResultPanel photo={addPhoto(result({ forced: true, quality: { gradable: false, score: 0.3, reasons: ['blurred'], codes: ['blurred'], measures: {} } }))} />);
    expect(screen.getByText(/Analysed anyway despite poor photo quality/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Analyse anyway' })).toBeNull();
  });

  it('a failed photo shows its error as an alert', () => {
    const p = addPhoto(undefined, { status: 'error', error: { code: 'decode-failed', message: 'The file is corrupt.' } });
    render(<ResultPanel photo={p} />);
    expect(screen.getByRole('alert').textContent).toMatch(/Could not open the image: The file is corrupt\./);
  });
});
