import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { appStore, useApp } from '../../store';
import {
  downloadCsv,
  effectiveSummary,
  exportRecordIds,
  importRecordsFile,
  refreshRecords,
  requestPersistentStorage,
  suggestedAction,
  type ExamRecord,
  type RecordFilter,
} from '../../services/records';
import { Thumb } from './Thumb';
import { UnsavedRecords } from './UnsavedRecords';
import { TableScroll } from '../TableScroll';

const mb = (n: number) => (n / (1024 * 1024)).toFixed(1);

interface Visit {
  key: string;
  patientId: string;
  captureDate: string;
  OD: ExamRecord[];
  OS: ExamRecord[];
}

/** Both eyes of a visit (same patient, same capture date) side by side. */
export function groupVisits(list: readonly ExamRecord[]): Visit[] {
  const m = new Map<string, Visit>();
  for (const r of list) {
    const key = `${r.patientId}\u0000${r.captureDate}`;
    let v = m.get(key);
    if (!v) m.set(key, (v = { key, patientId: r.patientId, captureDate: r.captureDate, OD: [], OS: [] }));
    v[r.eye].push(r);
  }
  return [...m.values()];
}

export function RecordCell({ r }: { r: ExamRecord }) {
  const { t } = useTranslation();
  const s = effectiveSummary(r);
  return (
    <div className={`record-cell result-${s}`} data-testid="record-cell" data-record-id={r.id}>
      <Thumb id={r.id} alt={t('records.list.thumbAlt', { eye: t(`records.eye.${r.eye}`), patient: r.patientId })} />
      <div>
        <a href={`#/record/${r.id}`} className="record-link">
          {t(`records.eye.${r.eye}`)}
        </a>
        <div className={`verdict-chip chip-${s}`}>{t(`records.result.${s}`)}</div>
        <div className="small muted">{t(`records.action.${suggestedAction(r)}`)}</div>
        {r.review && <div className="small">{t('records.list.reviewed', { reviewer: r.review.reviewer })}</div>}
      </div>
    </div>
  );
}

export function RecordsPage() {
  const { t } = useTranslation();
  const rec = useApp((s) => s.records);
  const [filter, setFilter] = useState<RecordFilter>(rec.filter);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const fileRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    appStore.getState().setRecordFilter(filter);
    void refreshRecords();
  }, [filter]);

  const visits = useMemo(() => groupVisits(rec.list), [rec.list]);
  const set = (patch: Partial<RecordFilter>) => setFilter((f) => ({ ...f, ...patch }));

  async function onImport(input: HTMLInputElement) {
    const files = Array.from(input.files ?? []);
    // the same file chosen again (after deleting what it brought) must fire change again
    input.value = '';
    if (!files.length) return;
    setMessage(null);
    let n = 0;
    let skipped = 0;
    try {
      for (const f of files) {
        const r = await importRecordsFile(f);
        n += r.imported;
        skipped += r.skipped;
      }
      setMessage({ kind: 'ok', text: t('records.list.imported', { count: n }) + (skipped ? ` ${t('records.list.skipped', { count: skipped })}` : '') });
    } catch (e) {
      setMessage({ kind: 'error', text: (e as Error).message });
    }
    if (fileRef.current) fileRef.current.value = '';
  }

  return (
    <section className="records-page" aria-labelledby="records-h">
      <h2 id="records-h">{t('records.list.heading')}</h2>
      <UnsavedRecords />
      <form className="filters" role="search" aria-label={t('records.list.filters')} onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('records.list.search')}
          <input type="search" value={filter.patient ?? ''} onChange={(e) => set({ patient: e.currentTarget.value })} />
        </label>
        <label>
          {t('records.list.from')}
          <input type="date" value={filter.from ?? ''} onChange={(e) => set({ from: e.currentTarget.value || undefined })} />
        </label>
        <label>
          {t('records.list.to')}
          <input type="date" value={filter.to ?? ''} onChange={(e) => set({ to: e.currentTarget.value || undefined })} />
        </label>
        <label>
          {t('records.fields.eye')}
          <select value={filter.eye ?? ''} onChange={(e) => set({ eye: (e.currentTarget.value || undefined) as RecordFilter['eye'] })}>
            <option value="">{t('records.list.any')}</option>
            <option value="OD">{t('records.eye.OD')}</option>
            <option value="OS">{t('records.eye.OS')}</option>
          </select>
        </label>
        <label>
          {t('records.list.result')}
          <select value={filter.result ?? 'any'} onChange={(e) => set({ result: e.currentTarget.value as RecordFilter['result'] })}>
            {(['any', 'dr-signs', 'healthy', 'ungradable', 'not-analysed'] as const).map((r) => (
              <option key={r} value={r}>
                {r === 'any' ? t('records.list.any') : t(`records.result.${r}`)}
              </option>
            ))}
          </select>
        </label>
      </form>
      <div className="records-actions">
        <button type="button" onClick={() => fileRef.current?.click()}>
          {t('records.list.import')}
        </button>
        <input ref={fileRef} type="file" accept=".json,application/json" multiple hidden data-testid="import-input" onChange={(e) => void onImport(e.currentTarget)} />
        <button type="button" disabled={!rec.list.length} onClick={() => void exportRecordIds(rec.list.map((r) => r.id))}>
          {t('records.list.export', { count: rec.list.length })}
        </button>
        <button type="button" disabled={!rec.list.length} onClick={() => downloadCsv(rec.list)}>
          {t('records.list.csv')}
        </button>
      </div>
      {message && (
        <p role={message.kind === 'error' ? 'alert' : 'status'} className={message.kind === 'error' ? 'error-text' : ''} data-testid="records-message">
          {message.text}
        </p>
      )}
      {rec.status === 'error' && (
        <p role="alert" className="error-box">
          {rec.error?.message}
        </p>
      )}
      {rec.status === 'ready' && !rec.list.length && <p className="muted">{t('records.list.empty')}</p>}
      {visits.length > 0 && (
        <TableScroll label={t('records.list.caption')}>
          <table className="visits" data-testid="records-table">
            <caption className="visually-hidden">{t('records.list.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('records.fields.patientId')}</th>
                <th scope="col">{t('records.fields.captureDate')}</th>
                <th scope="col">{t('records.eye.OD')}</th>
                <th scope="col">{t('records.eye.OS')}</th>
              </tr>
            </thead>
            <tbody>
              {visits.map((v) => (
                <tr key={v.key}>
                  <th scope="row">
                    <button type="button" className="linklike" onClick={() => setFilter({ patient: v.patientId })} title={t('records.list.patientHistory')}>
                      {v.patientId}
                    </button>
                  </th>
                  <td>{v.captureDate}</td>
                  <td>{v.OD.map((r) => <RecordCell key={r.id} r={r} />)}</td>
                  <td>{v.OS.map((r) => <RecordCell key={r.id} r={r} />)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      <StorageInfo />
    </section>
  );
}

function StorageInfo() {
  const { t } = useTranslation();
  const usage = useApp((s) => s.records.usage);
  if (!usage) return null;
  return (
    <p className="small muted" data-testid="storage-usage">
      {t('records.storage.usage', { used: mb(usage.usage), quota: mb(usage.quota) })}{' '}
      {usage.persisted ? (
        t('records.storage.persisted')
      ) : (
        <button type="button" className="linklike" onClick={() => void requestPersistentStorage().then(() => refreshRecords())}>
          {t('records.storage.persist')}
        </button>
      )}
    </p>
  );
}
