import { useTranslation } from 'react-i18next';
import { LANGUAGES } from '../../i18n';
import { appStore } from '../../store';

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
        {LANGUAGES.map((l) => (
          <option key={l} value={l} lang={l}>
            {t(`lang.${l}`)}
          </option>
        ))}
      </select>
    </label>
  );
}
