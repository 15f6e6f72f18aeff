import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { LabelId } from '../../core/types';
import { appStore } from '../../store';
import {
  deleteRecord,
  effectivePositive,
  effectiveSummary,
  getRecordStore,
  loadRecord,
  recordCam,
  saveReview,
  suggestedAction,
  type ExamRecord,
  type FullRecord,
} from '../../services/records';
import { AnnotatedPhoto } from './AnnotatedPhoto';
import { ReportActions } from './ReportActions';
import { RecordCell } from '../records/RecordsPage';
import './report.css';
import { TableScroll } from '../TableScroll';

const pct = (v: number | undefined) => (v === undefined ? '—' : `${Math.round(v * 100)}%`);

export function recordIdFromHash(prefix: string): string | null {
  const h = location.hash;
  return h.startsWith(prefix) ? decodeURIComponent(h.slice(prefix.length)) : null;
}

export function useHashId(prefix: string): string | null {
  const [id, setId] = useState(() => recordIdFromHash(prefix));
  useEffect(() => {
    const f = () => setId(recordIdFromHash(prefix));
    window.addEventListener('hashchange', f);
    return () => window.removeEventListener('hashchange', f);
  }, [prefix]);
  return id;
}

export function useFullRecord(id: string | null): { full: FullRecord | null; error: string | null; reload: () => void } {
  const [full, setFull] = useState<FullRecord | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    if (!id) return;
    loadRecord(id)
      .then((f) => live && setFull(f))
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [id, n]);
  return { full, error, reload: () => setN((x) => x + 1) };
}

/** A record page until its record is there: the load error, or "loading". */
export function RecordPending({ error }: { error: string | null }) {
  const { t } = useTranslation();
  if (error)
    return (
      <p role="alert" className="error-box">
        {error}
      </p>
    );
  return <p className="muted">{t('records.loading')}</p>;
}

/** The clinician's view of one record: the printable report, the review with per-label overrides, the other eye and the patient's visits. */
export function RecordView() {
  const { t } = useTranslation();
  const id = useHashId('#/record/');
  const { full, error, reload } = useFullRecord(id);
  const [others, setOthers] = useState<ExamRecord[]>([]);
  useEffect(() => {
    if (!full) return;
    void getRecordStore()
      .then((db) => db.list({ patient: full.record.patientId }))
      .then((l) => setOthers(l.filter((r) => r.patientId === full.record.patientId)));
  }, [full]);
  if (error || !full || full.record.id !== id) return <RecordPending error={error} />;
  const r = full.record;
  const a = r.analysis;
  const s = effectiveSummary(r);
  const eff = effectivePositive(r);
  const sameVisit = others.filter((o) => o.captureDate === r.captureDate && o.id !== r.id);
  return (
    <article className="report" aria-labelledby="report-h" data-testid="record-view">
      <header className="report-head">
        <h2 id="report-h">{t('report.title')}</h2>
        <p className="report-disclaimer" role="note">
          {t('report.disclaimer')}
        </p>
      </header>
      <ReportActions full={full} />
      <dl className="report-ids">
        <div>
          <dt>{t('records.fields.patientId')}</dt>
          <dd data-testid="record-patient">{r.patientId}</dd>
        </div>
        {r.dateOfBirth && (
          <div>
            <dt>{t('records.fields.dateOfBirth')}</dt>
            <dd>{r.dateOfBirth}</dd>
          </div>
        )}
        <div>
          <dt>{t('records.fields.eye')}</dt>
          <dd>{t(`records.eye.${r.eye}`)}</dd>
        </div>
        <div>
          <dt>{t('records.fields.captureDate')}</dt>
          <dd>{r.captureDate}</dd>
        </div>
        {r.camera && (
          <div>
            <dt>{t('records.fields.camera')}</dt>
            <dd>{r.camera}</dd>
          </div>
        )}
        {r.notes && (
          <div>
            <dt>{t('records.fields.notes')}</dt>
            <dd>{r.notes}</dd>
          </div>
        )}
      </dl>
      <div className="report-body">
        <AnnotatedPhoto photo={full.photo} analysis={a} alt={t('report.photoAlt', { eye: t(`records.eye.${r.eye}`), date: r.captureDate })} />
        <div>
          {a ? (
            <>
              <p>
                <strong>{t('report.quality')}:</strong> {t(a.quality.gradable ? 'report.gradable' : 'report.ungradable')} ({a.quality.score.toFixed(2)})
                {a.forced && <> — {t('report.forced')}</>}
              </p>
              <TableScroll label={t('report.table.caption')}>
                <table className="report-table">
                  <thead>
                    <tr>
                      <th scope="col">{t('report.table.label')}</th>
                      <th scope="col">{t('report.table.probability')}</th>
                      <th scope="col">{t('report.table.threshold')}</th>
                      <th scope="col">{t('report.table.model')}</th>
                      <th scope="col">{t('report.table.final')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {a.labels.map((l) => (
                      <tr key={l.id} data-label={l.id}>
                        <th scope="row">
                          {l.name} <span className="muted small">{l.plainName}</span>
                        </th>
                        <td>{pct(a.probabilities[l.id])}</td>
                        <td>{pct(l.threshold)}</td>
                        <td>{a.positive[l.id] ? t('report.positive') : t('report.negative')}</td>
                        <td>{eff[l.id] ? <strong>{t('report.positive')}</strong> : t('report.negative')}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableScroll>
            </>
          ) : (
            <p>{t('records.result.not-analysed')}</p>
          )}
          <p className={`report-summary chip-${s}`} data-testid="record-summary">
            <strong>{t('report.summary')}:</strong> {t(`records.result.${s}`)}
          </p>
          <p className="report-action" data-testid="record-action">
            <strong>{t('report.action')}:</strong> {t(`records.action.${suggestedAction(r)}`)}
          </p>
          {a && (
            <p className="small">
              {t('report.model')}: {a.modelName} {a.modelVersion} ({a.backend}); <span data-testid="record-cam">{t('report.camMethod')}: {t(`viewer.cam.${recordCam(a)}`)}</span>; {t('report.thresholds')}: {a.labels.map((l) => `${l.name} ${l.threshold.toFixed(2)}`).join(', ')}
            </p>
          )}
          {a && <Review full={full} onSaved={reload} />}
        </div>
      </div>
      {sameVisit.length > 0 && (
        <section className="no-print" aria-labelledby="other-eye-h">
          <h3 id="other-eye-h">{t('report.otherEye')}</h3>
          <div className="side-by-side">
            {sameVisit.map((o) => (
              <RecordCell key={o.id} r={o} />
            ))}
          </div>
        </section>
      )}
      <section className="no-print" aria-labelledby="visits-h">
        <h3 id="visits-h">{t('report.visits', { patient: r.patientId })}</h3>
        <ol className="visits-timeline" data-testid="patient-visits">
          {[...others].reverse().map((o) => (
            <li key={o.id} aria-current={o.id === r.id ? 'true' : undefined}>
              <a href={`#/record/${o.id}`}>
                {o.captureDate} · {t(`records.eye.${o.eye}`)}
              </a>{' '}
              — {t(`records.result.${effectiveSummary(o)}`)}
              {o.analysis && <span className="muted small"> ({o.analysis.labels.filter((l) => l.id !== 'healthy').map((l) => `${l.name} ${pct(o.analysis!.probabilities[l.id])}`).join(', ')})</span>}
            </li>
          ))}
        </ol>
      </section>
      <p className="no-print">
        <a href="#/records">{t('records.back')}</a>{' '}
        <button
          type="button"
          className="danger"
          onClick={async () => {
            if (!confirm(t('records.confirmDelete', { patient: r.patientId }))) return;
            await deleteRecord(r.id);
            location.hash = '#/records';
          }}
        >
          {t('records.delete')}
        </button>
      </p>
      <footer className="report-foot">
        {t('report.disclaimer')} — FundusLens — {t('report.recordId')}: {r.id}
      </footer>
    </article>
  );
}

type Choice = 'model' | 'yes' | 'no';

function Review({ full, onSaved }: { full: FullRecord; onSaved: () => void }) {
  const { t } = useTranslation();
  const r = full.record;
  const a = r.analysis!;
  const [reviewer, setReviewer] = useState(r.review?.reviewer ?? '');
  const [comment, setComment] = useState(r.review?.comment ?? '');
  const [choice, setChoice] = useState<Partial<Record<LabelId, Choice>>>(() => {
    const o: Partial<Record<LabelId, Choice>> = {};
    for (const [k, v] of Object.entries(r.review?.overrides ?? {})) o[k as LabelId] = v ? 'yes' : 'no';
    return o;
  });
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const dirty = () => appStore.getState().setRecordsDirty(true);
  useEffect(() => () => appStore.getState().setRecordsDirty(false), []);
  async function save() {
    if (!reviewer.trim()) {
      setMsg({ ok: false, text: t('report.review.needName') });
      return;
    }
    const overrides: Partial<Record<LabelId, boolean>> = {};
    for (const [k, v] of Object.entries(choice)) if (v === 'yes' || v === 'no') overrides[k as LabelId] = v === 'yes';
    try {
      await saveReview(r.id, { reviewer: reviewer.trim(), reviewedAt: new Date().toISOString(), overrides, comment: comment.trim() || undefined });
      appStore.getState().setRecordsDirty(false);
      setMsg({ ok: true, text: t('report.review.saved') });
      onSaved();
    } catch (e) {
      setMsg({ ok: false, text: (e as Error).message });
    }
  }
  return (
    <>
    <details className="review no-print" open={!r.review}>
      <summary>{r.review ? t('report.review.by', { reviewer: r.review.reviewer, date: r.review.reviewedAt.slice(0, 10) }) : t('report.review.heading')}</summary>
      <label>
        {t('report.review.reviewer')}
        <input value={reviewer} onChange={(e) => (setReviewer(e.currentTarget.value), dirty())} />
      </label>
      <fieldset>
        <legend>{t('report.review.overrides')}</legend>
        {a.labels.map((l) => (
          <label key={l.id} className="override">
            {l.name}{' '}
            <select value={choice[l.id] ?? 'model'} onChange={(e) => {
                const v = e.currentTarget.value as Choice;
                setChoice((c) => ({ ...c, [l.id]: v }));
                dirty();
              }} aria-label={t('report.review.overrideAria', { name: l.name })}>
              <option value="model">{t('report.review.agree', { verdict: a.positive[l.id] ? t('report.positive') : t('report.negative') })}</option>
              <option value="yes">{t('report.positive')}</option>
              <option value="no">{t('report.negative')}</option>
            </select>
          </label>
        ))}
      </fieldset>
      <label>
        {t('report.comment')}
        <textarea rows={2} value={comment} onChange={(e) => (setComment(e.currentTarget.value), dirty())} />
      </label>
      <button type="button" onClick={() => void save()}>
        {t('report.review.save')}
      </button>
    </details>
    {/* outside the details: it closes once the record has a review */}
    {msg && (
      <p role={msg.ok ? 'status' : 'alert'} className={msg.ok ? 'no-print' : 'error-text no-print'}>
        {msg.text}
      </p>
    )}
    </>
  );
}
