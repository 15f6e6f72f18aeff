import { useTranslation } from 'react-i18next';
import { appStore, useApp } from '../../store';
import { exportToFile, saveRecord } from '../../services/records';

/** Records kept in memory after a failed save (storage full…): export them, or try again. */
export function UnsavedRecords() {
  const { t } = useTranslation();
  const unsaved = useApp((s) => s.records.unsaved);
  if (!unsaved.length) return null;
  return (
    <div className="unsaved banner" role="region" aria-label={t('records.unsaved.heading')} data-testid="unsaved-records">
      <p>
        <strong>{t('records.unsaved.heading')}</strong> {t('records.unsaved.text', { count: unsaved.length })}
      </p>
      <button type="button" onClick={() => void exportToFile(unsaved)}>
        {t('records.unsaved.export')}
      </button>{' '}
      <button
        type="button"
        onClick={async () => {
          for (const u of unsaved) await saveRecord(u).catch(() => undefined);
          appStore.getState().setRecordsDirty(false);
        }}
      >
        {t('records.unsaved.retry')}
      </button>
    </div>
  );
}
