/** The settings panel's explanation-map choice: Grad-CAM by default, HiResCAM picked into the store, with its help text. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/react';
import { appStore } from '../store';
import { withDemoCard } from './test-fixtures';

vi.mock('../services/instance', () => ({ getRunner: () => ({}), modelUrl: () => '/models/demo/' }));
const { Settings } = await import('./Chrome');

withDemoCard([]);
afterEach(() => appStore.getState().setCam('gradcam'));

describe('Settings — explanation map', () => {
  it('offers Grad-CAM (default) and HiResCAM, explains the choice, and stores the pick', () => {
    render(<Settings />);
    const select = screen.getByRole('combobox', { name: 'Explanation map' }) as HTMLSelectElement;
    expect(select.value).toBe('gradcam');
    expect([...select.options].map((o) => o.textContent)).toEqual(['Grad-CAM (paper, default)', 'HiResCAM (sharper)']);
    expect(document.getElementById(select.getAttribute('aria-describedby')!)?.textContent).toMatch(/Grad-CAM is the method of the paper.*synthetic test photos/);
    fireEvent.change(select, { target: { value: 'hirescam' } });
    expect(appStore.getState().settings.cam).toBe('hirescam');
    expect(select.value).toBe('hirescam');
  });
});
