import { useTranslation } from 'react-i18next';
import { useApp, appStore } from '../store';
import { getRunner } from '../services/instance';

export function Queue() {
  const { t } = useTranslation();
  const photos = useApp((s) => s.photos);
  const selectedId = useApp((s) => s.selectedId);
  if (!photos.length) return null;
  return (
    <section className="panel queue" aria-labelledby="queue-heading">
      <div className="row">
        <h2 id="queue-heading">{t('queue.heading')}</h2>
        <button type="button" className="link" onClick={() => appStore.getState().clearPhotos()}>
          {t('queue.clear')}
        </button>
      </div>
      <ul>
        {photos.map((p) => {
          const busy = p.status === 'decoding' || p.status === 'analysing';
          const summary = p.result ? t(`result.summary.${p.result.summary}`, { labels: '…' }) : '';
          return (
            <li key={p.id} className={`queue-item status-${p.status}${p.id === selectedId ? ' selected' : ''}`}>
              <button type="button" className="queue-select" aria-current={p.id === selectedId ? 'true' : undefined} onClick={() => appStore.getState().selectPhoto(p.id)}>
                <span className="name">{p.name}</span>
                <span className="status" data-status={p.status}>
                  {t(`queue.status.${p.status}`)}
                  {busy && p.stage ? ` · ${t(`stage.${p.stage}`)}` : ''}
                  {p.status === 'done' && p.result ? ` · ${p.result.summary === 'dr-signs' ? 'DR' : p.result.summary === 'healthy' ? '✓' : '⚠'}` : ''}
                </span>
                {busy && <progress max={1} value={p.progress ?? undefined} aria-label={t(`stage.${p.stage ?? 'decode'}`)} />}
                <span className="visually-hidden">{summary}</span>
              </button>
              {busy ? (
                <button type="button" className="icon" aria-label={t('queue.cancel', { name: p.name })} onClick={() => getRunner().cancel(p.id)}>
                  ■
                </button>
              ) : p.status === 'error' || p.status === 'cancelled' ? (
                <button type="button" className="icon" aria-label={t('queue.retry', { name: p.name })} onClick={() => appStore.getState().retry(p.id)}>
                  ↻
                </button>
              ) : null}
              {!busy && (
                <button type="button" className="icon" aria-label={t('queue.remove', { name: p.name })} onClick={() => appStore.getState().removePhoto(p.id)}>
                  ×
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
