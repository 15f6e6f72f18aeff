import { useTranslation } from 'react-i18next';
import { appStore, CAM_METHODS, useApp } from '../store';
import { getRunner, modelUrl } from '../services/instance';
import { BACKENDS, type BackendPreference } from '../services/types';
import type { ColormapName } from '../render/colormap';
import type { CamMethod } from '../core/types';

/** Model loading / load failure with how to fix it. */
export function ModelStatus() {
  const { t } = useTranslation();
  const model = useApp((s) => s.model);
  if (model.status === 'loading')
    return (
      <p className="banner" role="status">
        {t('modelStatus.loading')}
      </p>
    );
  if (model.status !== 'error') return null;
  return (
    <div className="banner error-box" role="alert" data-testid="model-error">
      <p>{t('modelStatus.error', { message: model.error?.message ?? '' })}</p>
      <p className="small">{t('modelStatus.fix', { url: modelUrl() })}</p>
      <button type="button" onClick={() => getRunner().retryModel()}>
        {t('modelStatus.retry')}
      </button>
    </div>
  );
}

export function Notices() {
  const { t } = useTranslation();
  const notices = useApp((s) => s.notices);
  if (!notices.length) return null;
  return (
    <ul className="notices" aria-live="polite">
      {notices.map((n, i) => (
        <li key={i} className={`notice notice-${n.code}`}>
          <span>{t(`notices.${n.code}`, { message: n.message })}</span>
          <button type="button" className="icon" aria-label={t('notices.dismiss')} onClick={() => appStore.getState().dismissNotice(i)}>
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}

export function UpdatePrompt() {
  const { t } = useTranslation();
  const update = useApp((s) => s.update);
  const recordOpen = useApp((s) => s.records.dirty || s.records.unsaved.length > 0);
  if (!update.ready) return null;
  return (
    <div className="banner update" role="status">
      <span>{t('update.ready')}</span>{' '}
      {update.deferred ? (
        <span>{t(recordOpen ? 'update.waitingRecord' : 'update.waiting')}</span>
      ) : (
        <button type="button" onClick={() => appStore.getState().deferUpdate()}>
          {t('update.reload')}
        </button>
      )}
    </div>
  );
}

export function Settings() {
  const { t } = useTranslation();
  const settings = useApp((s) => s.settings);
  const inUse = useApp((s) => s.model.info?.backend);
  const softwareGpu = useApp((s) => s.model.info?.softwareGpu);
  const st = appStore.getState();
  return (
    <details className="settings">
      <summary>{t('settings.heading')}</summary>
      <div className="settings-body">
        <label>
          {t('settings.backend')}
          <select value={settings.backend} onChange={(e) => st.setBackend(e.currentTarget.value as BackendPreference)} data-testid="backend-select">
            {(['auto', ...BACKENDS] as const).map((b) => (
              <option key={b} value={b}>
                {t(`settings.backends.${b}`)}
              </option>
            ))}
          </select>
        </label>
        {inUse && <p className="small">{t('settings.current', { backend: inUse })}</p>}
        {inUse && settings.backend === 'auto' && softwareGpu && softwareGpu.length > 0 && (
          <p className="small" data-testid="software-gpu">
            {t('settings.softwareGpu', {
              backends: softwareGpu.map((g) => t(`settings.backends.${g.backend}`)).join(' + '),
              renderer: softwareGpu[0].renderer,
              backend: t(`settings.backends.${inUse}`),
            })}
          </p>
        )}
        <label>
          {t('settings.colormap')}
          <select value={settings.colormap} onChange={(e) => st.setColormap(e.currentTarget.value as ColormapName)}>
            {(['inferno', 'viridis'] as const).map((c) => (
              <option key={c} value={c}>
                {t(`settings.colormaps.${c}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('settings.cam')}
          <select value={settings.cam} onChange={(e) => st.setCam(e.currentTarget.value as CamMethod)} data-testid="cam-select" aria-describedby="cam-help">
            {CAM_METHODS.map((c) => (
              <option key={c} value={c}>
                {t(`settings.cams.${c}`)}
              </option>
            ))}
          </select>
        </label>
        <p id="cam-help" className="small muted">
          {t('settings.camHelp')}
        </p>
      </div>
    </details>
  );
}
