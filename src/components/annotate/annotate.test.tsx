import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { initI18n } from '../../i18n';
import { appStore } from '../../store';
import { createAnnotationController } from '../../services/annotations/controller';
import { openAnnotationDb } from '../../services/annotations/db';
import type { Sample } from '../../services/samples';
import { AnnotatePage } from './AnnotatePage';
import { handleAnnotateKey } from './Annotator';
import { exampleFor } from './Standard';

beforeAll(() => {
  initI18n('en');
  // jsdom has no object URLs and no samples server
  URL.createObjectURL = () => 'blob:test';
  URL.revokeObjectURL = () => {};
  vi.stubGlobal('fetch', async () => new Response('[]', { headers: { 'content-type': 'application/json' } }));
});
afterAll(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('Annotate page', () => {
  it('opens a set, ticks with keys 1–5 (not while typing a name), shows progress; definitions on D', async () => {
    const ctl = createAnnotationController({ store: appStore, db: () => openAnnotationDb('ui-annotate-page') });
    render(<AnnotatePage controller={ctl} />);
    const name = await screen.findByTestId('ann-name');
    fireEvent.change(name, { target: { value: 'Dr. Jsdom' } });
    const files = ['a.jpg', 'b.jpg'].map((n) => new File([new Uint8Array([1, 2, 3])], n, { type: 'image/jpeg' }));
    fireEvent.change(screen.getByTestId('ann-file-input'), { target: { files } });
    expect(await screen.findByText(/Photo 1 of 2/)).toBeTruthy();
    const box = (l: string) => screen.getByTestId(`ann-check-${l}`) as HTMLInputElement;

    act(() => void fireEvent.keyDown(window, { key: '1' }));
    act(() => void fireEvent.keyDown(window, { key: '4' }));
    expect(box('ma').checked).toBe(true);
    expect(box('cws').checked).toBe(true);
    expect(screen.getByTestId('ann-status').textContent).toBe('Labelled');
    act(() => void fireEvent.keyDown(window, { key: '5' }));
    expect([box('ma').checked, box('cws').checked, box('healthy').checked]).toEqual([false, false, true]);

    // typing a name with digits does not tick labels
    const annotator = screen.getByTestId('ann-annotator');
    act(() => void fireEvent.keyDown(annotator, { key: '2' }));
    expect(box('hm').checked).toBe(false);
    // a focused check box still gets the shortcuts; Enter on a button keeps its own meaning
    let handled = false;
    act(() => {
      handled = handleAnnotateKey({ key: '2', ctrlKey: false, metaKey: false, altKey: false, target: box('ma') });
    });
    expect(handled).toBe(true);
    expect(box('hm').checked).toBe(true);
    expect(handleAnnotateKey({ key: 'Enter', ctrlKey: false, metaKey: false, altKey: false, target: screen.getByTestId('ann-export') })).toBe(false);

    act(() => void fireEvent.keyDown(window, { key: 'ArrowRight' }));
    expect(screen.getByText(/Photo 2 of 2/)).toBeTruthy();
    expect(screen.getByTestId('ann-progress').textContent).toMatch(/1 of 2 labelled/);
    act(() => void fireEvent.keyDown(window, { key: 'z', ctrlKey: true }));
    expect(screen.getByText(/Photo 1 of 2/)).toBeTruthy();
    expect(box('hm').checked).toBe(false);

    act(() => void fireEvent.keyDown(window, { key: 'd' }));
    expect(screen.getByTestId('ann-standard').textContent).toMatch(/Hard exudates: sharp-edged/);
    await act(async () => ctl.flush());
    await waitFor(() => expect(appStore.getState().annotate.session?.annotator).toBe('Dr. Jsdom'));
    ctl.stop();
  });
});

describe('definitions: example pictures', () => {
  it('picks, per label, the gradable sample with that label and the fewest other lesions', () => {
    const s = (file: string, labels: Record<string, number>, gradable = true): Sample => ({ file, title: file, labels, gradable, url: `u/${file}`, thumbUrl: `u/${file}` });
    const samples = [
      s('healthy.jpg', { ma: 0, hm: 0, hex: 0, cws: 0, healthy: 1 }),
      s('adv.jpg', { ma: 1, hm: 1, hex: 1, cws: 1, healthy: 0 }),
      s('hm.jpg', { ma: 1, hm: 1, hex: 0, cws: 0, healthy: 0 }),
      s('ma.jpg', { ma: 1, hm: 0, hex: 0, cws: 0, healthy: 0 }),
      s('dark.jpg', { ma: 0, hm: 0, hex: 0, cws: 1, healthy: 0 }, false),
    ];
    expect(exampleFor(samples, 'ma')?.file).toBe('ma.jpg');
    expect(exampleFor(samples, 'hm')?.file).toBe('hm.jpg');
    expect(exampleFor(samples, 'cws')?.file).toBe('adv.jpg');
    expect(exampleFor(samples, 'healthy')?.file).toBe('healthy.jpg');
    expect(exampleFor([], 'hex')).toBeUndefined();
  });
});
