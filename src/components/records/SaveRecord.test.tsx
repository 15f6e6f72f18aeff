import 'fake-indexeddb/auto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { initI18n } from '../../i18n';
import { appStore, type PhotoItem } from '../../store';
import { getRecordStore } from '../../services/records';
import { storageError } from '../../services/records/db';
import { SaveRecord } from './SaveRecord';
import { groupVisits } from './RecordsPage';

function addPhoto(): PhotoItem {
  const [id] = appStore.getState().addPhotos([{ name: 'eye.jpg', file: new Blob([new Uint8Array([7, 7, 7])], { type: 'image/jpeg' }) }]);
  appStore.getState().updatePhoto(id, { status: 'done' });
  return appStore.getState().photos.find((p) => p.id === id)!;
}

beforeAll(() => {
  initI18n('en');
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('SaveRecord form', () => {
  it('asks for a patient identifier, marks unsaved edits, saves record + photo, then says so', async () => {
    const photo = addPhoto();
    render(<SaveRecord photo={photo} />);
    fireEvent.click(screen.getByRole('button', { name: 'Save record' }));
    expect(screen.getByRole('alert').textContent).toBe('Enter a patient identifier.');
    expect(screen.getByLabelText('Patient identifier').getAttribute('aria-invalid')).toBe('true');

    fireEvent.change(screen.getByLabelText('Patient identifier'), { target: { value: '  JSDOM-1 ' } });
    expect(appStore.getState().records.dirty).toBe(true);
    // no eye is ticked for you: a default would file a left eye as the right one unnoticed
    expect(screen.getAllByRole('radio').some((r) => (r as HTMLInputElement).checked)).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'Save record' }));
    expect(screen.getByRole('alert').textContent).toBe('Choose the eye.');
    expect(appStore.getState().records.savedPhotos[photo.id]).toBeUndefined();
    fireEvent.click(screen.getByRole('radio', { name: 'Left eye (OS)' }));
    fireEvent.click(screen.getByRole('button', { name: 'Save record' }));
    await screen.findByTestId('record-saved');
    expect(appStore.getState().records.dirty).toBe(false);
    const id = appStore.getState().records.savedPhotos[photo.id];
    const back = await (await getRecordStore()).get(id);
    expect(back?.record.patientId).toBe('JSDOM-1');
    expect(back?.record.eye).toBe('OS');
    expect(back?.record.analysis).toBeNull();
    expect([...new Uint8Array(await back!.photo.arrayBuffer())]).toEqual([7, 7, 7]);
  });

  it('storage full: shows the clear message and keeps the record in memory for export', async () => {
    const db = await getRecordStore();
    // what the store turns the browser's QuotaExceededError into
    vi.spyOn(db, 'save').mockRejectedValue(storageError(new DOMException('full', 'QuotaExceededError'), 'the record'));
    const photo = addPhoto();
    render(<SaveRecord photo={photo} />);
    fireEvent.change(screen.getByLabelText('Patient identifier'), { target: { value: 'FULL-2' } });
    fireEvent.click(screen.getByRole('radio', { name: 'Right eye (OD)' }));
    fireEvent.click(screen.getByRole('button', { name: 'Save record' }));
    const err = await screen.findByTestId('save-error');
    expect(err.getAttribute('data-code')).toBe('storage-full');
    await waitFor(() => expect(appStore.getState().records.unsaved.map((u) => u.record.patientId)).toEqual(['FULL-2']));
    expect(screen.getByTestId('unsaved-records').textContent).toMatch(/Export to a file now/);
  });
});

describe('visits', () => {
  it('groups both eyes of the same patient and day into one visit', () => {
    const r = (patientId: string, eye: 'OD' | 'OS', captureDate: string) => ({ id: `${patientId}${eye}${captureDate}`, patientId, eye, captureDate }) as never;
    const v = groupVisits([r('A', 'OD', '2026-01-01'), r('A', 'OS', '2026-01-01'), r('A', 'OD', '2026-02-01'), r('B', 'OS', '2026-01-01')]);
    expect(v.map((x) => [x.patientId, x.captureDate, x.OD.length, x.OS.length])).toEqual([
      ['A', '2026-01-01', 1, 1],
      ['A', '2026-02-01', 1, 0],
      ['B', '2026-01-01', 0, 1],
    ]);
  });
});
