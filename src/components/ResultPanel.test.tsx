import { afterEach, describe, expect, it } from 'vitest';
import i18next from 'i18next';
import { qualityMessage } from '../core/quality';
import { fireEvent, render, screen, within } from '@testing-library/react';
import type { LabelSpec, QualityCode } from '../core/types';
import { appStore } from '../store';
import { analysisResult as result } from '../services/test-fixtures';
import { ResultPanel } from './ResultPanel';
import { addPhoto, withDemoCard } from './test-fixtures';

const labels: LabelSpec[] = [
  { id: 'ma', name: 'BP/MA', plainName: 'small spots of bleeding (microaneurysms)', colour: '#ff4fd8', threshold: 0.5 },
  { id: 'hm', name: 'HM', plainName: 'bleeding (haemorrhages)', colour: '#e0202a', threshold: 0.4 },
  { id: 'hex', name: 'HEX', plainName: 'fatty deposits (hard exudates)', colour: '#ffd500', threshold: 0.3 },
  { id: 'cws', name: 'CWS', plainName: 'swollen nerve fibres (cotton wool spots)', colour: '#2f7bff', threshold: 0.5 },
  { id: 'healthy', name: 'Healthy', plainName: 'no signs found', colour: null, threshold: 0.5 },
];

withDemoCard(labels);

describe('ResultPanel', () => {
  afterEach(async () => {
    await i18next.changeLanguage('en');
  });

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
    expect(screen.getByText('Too dark — increase the flash or illumination and retake.')).toBeTruthy();
    expect(screen.getByText(/Retake the photo: check focus/)).toBeTruthy();
    expect(screen.getByTestId('summary').textContent).toMatch(/Ungradable — no screening result/);
    expect(screen.queryByRole('list', { name: 'Label probabilities' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Analyse anyway' }));
    expect(appStore.getState().photos.find((x) => x.id === p.id)).toMatchObject({ force: true, status: 'queued' });
  });

  it("the gate's reasons are shown by code in the reader's language; a photo that may not be a retina gets that advice, not 'retake with better light'", async () => {
    const ungradable = (codes: QualityCode[], reasons: string[]) =>
      result({
        summary: 'ungradable',
        quality: { gradable: false, score: 0, reasons, codes, measures: {} },
        positive: { ma: false, hm: false, hex: false, cws: false, healthy: false },
      });
    await i18next.changeLanguage('es');
    const dark = addPhoto(ungradable(['too-dark', 'blurred'], [qualityMessage('too-dark'), qualityMessage('blurred')]));
    const { rerender } = render(<ResultPanel photo={dark} />);
    const reasons = () => Array.from(document.querySelectorAll('ul.reasons li')).map((li) => li.textContent);
    expect(reasons()).toEqual(['Demasiado oscura: aumente el flash o la iluminación y repita la fotografía.', 'Desenfocada: vuelva a enfocar y repita la fotografía.']);
    expect(screen.getByText(/Repita la fotografía: compruebe el enfoque/)).toBeTruthy();
    // an imported result with a code this version does not know keeps its stored sentence
    const future = addPhoto(ungradable(['squinting' as QualityCode], ['Stored sentence from a newer version.']));
    rerender(<ResultPanel photo={future} />);
    expect(reasons()).toEqual(['Stored sentence from a newer version.']);
    await i18next.changeLanguage('en');
    const sky = addPhoto(ungradable(['no-fov'], [qualityMessage('no-fov')]));
    rerender(<ResultPanel photo={sky} />);
    expect(reasons()).toEqual([qualityMessage('no-fov')]);
    expect(screen.getByText(/Only colour photographs of the retina \(fundus photos\) can be screened/)).toBeTruthy();
    expect(screen.queryByText(/pupil is well dilated/)).toBeNull();
  });

  it("English reasons are core's own sentences, code for code (one wording for the CLI, the app and the PDF)", () => {
    const codes: QualityCode[] = ['no-fov', 'not-fundus', 'too-dark', 'too-bright', 'saturated', 'blurred', 'low-contrast', 'noisy', 'too-small', 'fov-cut'];
    const en = i18next.getFixedT('en');
    for (const c of codes) expect(en(`quality.code.${c}`), c).toBe(qualityMessage(c));
    expect(Object.keys(i18next.getResourceBundle('en', 'translation').quality.code).sort()).toEqual([...codes].sort());
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

  it("a failed photo's error says what to do in the reader's language before the (English) technical detail", async () => {
    await i18next.changeLanguage('es');
    const p = addPhoto(undefined, { status: 'error', error: { code: 'decode-failed', message: 'This file could not be opened as an image.' } });
    render(<ResultPanel photo={p} />);
    expect(screen.getByRole('alert').textContent).toMatch(/use JPEG, PNG o WebP\. Detalle: This file could not be opened as an image\./);
  });

  it('names the explanation map of the result: HiResCAM in the model line and the timings, Grad-CAM when the result does not say', () => {
    const { unmount } = render(<ResultPanel photo={addPhoto(result({ camMethod: 'hirescam', timingsMs: { forward: 100, gradcam: 30, total: 200 } }))} />);
    expect(screen.getByTestId('cam-method').textContent).toBe('HiResCAM');
    expect(screen.getByRole('row', { name: /Computing HiResCAM maps/ })).toBeTruthy();
    expect(screen.queryByRole('row', { name: /Grad-CAM/ })).toBeNull();
    unmount();
    render(<ResultPanel photo={addPhoto(result({ timingsMs: { forward: 100, gradcam: 30, total: 200 } }))} />);
    expect(screen.getByTestId('cam-method').textContent).toBe('Grad-CAM');
    expect(screen.getByRole('row', { name: /Computing Grad-CAM maps/ })).toBeTruthy();
  });
});

