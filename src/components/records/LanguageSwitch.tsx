import { useTranslation } from 'react-i18next';
import { LANGUAGES } from '../../i18n';
import { appStore } from '../../store';

/** One option per supported language, each named in the UI language and tagged with its own. */
export function LanguageOptions() {
  const { t } = useTranslation();
  return LANGUAGES.map((l) => (
    <option key={l} value={l} lang={l}>
      {t(`lang.${l}`)}
    </option>
  ));
}

/** UI language; the choice is kept in the persisted settings (localStorage). */
export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <label className="lang-switch">
      <span className="visually-hidden">{t('lang.label')}</span>
      <select
        value={i18n.language}
        data-testid="language-select"
        aria-label={t('lang.label')}
        onChange={(e) => {
          const l = e.currentTarget.value;
          appStore.getState().setLanguage(l);
          void i18n.changeLanguage(l);
          document.documentElement.lang = l === 'zh' ? 'zh-Hans' : l;
        }}
      >
        <LanguageOptions />
      </select>
    </label>
  );
}
