import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import i18next from 'i18next';
import { initI18n } from '../../i18n';
import { appStore } from '../../store';
import { LanguageOptions, LanguageSwitch } from './LanguageSwitch';

beforeAll(() => {
  initI18n('en');
});
afterEach(async () => {
  cleanup();
  appStore.getState().setLanguage('en');
  document.documentElement.lang = 'en';
  await i18next.changeLanguage('en');
});

const options = (select: HTMLElement) => [...select.querySelectorAll('option')].map((o) => [o.value, o.lang, o.textContent]);

describe('LanguageOptions / LanguageSwitch', () => {
  it('one option per language, named in the UI language and tagged with its own (the patient view uses the same options)', () => {
    render(
      <select data-testid="bare">
        <LanguageOptions />
      </select>,
    );
    const expected = [
      ['en', 'en', 'English'],
      ['es', 'es', 'Español'],
      ['zh', 'zh', '中文（简体）'],
    ];
    expect(options(screen.getByTestId('bare')).sort()).toEqual(expected);
    render(<LanguageSwitch />);
    expect(options(screen.getByTestId('language-select')).sort()).toEqual(expected);
  });

  it('choosing a language switches the UI, keeps the choice in the settings and sets the document language', () => {
    render(<LanguageSwitch />);
    fireEvent.change(screen.getByTestId('language-select'), { target: { value: 'zh' } });
    expect(i18next.language).toBe('zh');
    expect(appStore.getState().settings.language).toBe('zh');
    expect(document.documentElement.lang).toBe('zh-Hans');
    expect((screen.getByTestId('language-select') as HTMLSelectElement).value).toBe('zh');
  });
});
