import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import { initI18n } from '../../i18n';
import { RecordPending } from './RecordView';

beforeAll(() => {
  initI18n('en');
});
afterEach(cleanup);

describe('RecordPending (record and patient views before the record is there)', () => {
  it('a load error is an alert with the message; otherwise a quiet "loading" line', () => {
    render(<RecordPending error="No record with id x on this device." />);
    expect(screen.getByRole('alert').textContent).toBe('No record with id x on this device.');
    cleanup();
    render(<RecordPending error={null} />);
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getByText('Loading the record…').className).toBe('muted');
  });
});
