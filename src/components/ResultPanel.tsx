import { useTranslation } from 'react-i18next';
import type { AnalysisResult, LabelSpec, StageName } from '../core/types';
import { appStore, camOf, useApp, type PhotoItem } from '../store';
import { getRunner } from '../services/instance';
import { doubtsRetina, qualityReasons } from '../i18n';

const pct = (v: number) => `${Math.round(v * 100)}%`;
const STAGES: StageName[] = ['decode', 'quality', 'preprocess', 'forward', 'gradcam', 'guidedBackprop', 'outlines', 'total'];

const NO_LABELS: LabelSpec[] = [];
/** Selector: the model's labels (loaded model first, else metadata.json). Stable when absent, as zustand selectors must be. */
export function labelsOf(s: { model: { info?: { metadata: { labels: LabelSpec[] } } }; card: { metadata?: { labels: LabelSpec[] } } }): LabelSpec[] {
  return s.model.info?.metadata.labels ?? s.card.metadata?.labels ?? NO_LABELS;
}

/** Quality verdict: always first. Ungradable → reasons, retake advice, "analyse anyway". */
export function QualityVerdict({ photo }: { photo: PhotoItem }) {
  const { t } = useTranslation();
  const r = photo.result;
  if (!r) return null;
  const q = r.quality;
  return (
    <section className={`verdict ${q.gradable ? 'gradable' : 'ungradable'}`} aria-labelledby="quality-heading">
      <h3 id="quality-heading">{t('quality.heading')}</h3>
      <p className="verdict-line" data-testid="quality-verdict">
        <span aria-hidden="true">{q.gradable ? '✔ ' : '⚠ '}</span>
        {t(q.gradable ? 'quality.gradable' : 'quality.ungradable', { score: q.score.toFixed(2) })}
      </p>
      {q.reasons.length > 0 && (
        <ul className="reasons">
          {qualityReasons(t, q).map((reason, i) => (
            <li key={i} data-code={q.codes[i]}>
              {reason}
            </li>
          ))}
        </ul>
      )}
      {!q.gradable && !r.forced && (
        <>
          <p>{t(doubtsRetina(q.codes) ? 'quality.notRetina' : 'quality.retake')}</p>
          <button type="button" onClick={() => appStore.getState().analyseAnyway(photo.id)} aria-describedby="anyway-hint">
            {t('quality.analyseAnyway')}
          </button>
          <p id="anyway-hint" className="muted small">
            {t('quality.analyseAnywayHint')}
          </p>
        </>
      )}
      {r.forced && (
        <p className="forced" role="note">
          {t('quality.forced')}
        </p>
      )}
      <details>
        <summary>{t('quality.measures')}</summary>
        <dl className="measures">
          {Object.entries(q.measures).map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{Number.isFinite(v) ? +v.toFixed(3) : String(v)}</dd>
            </div>
          ))}
        </dl>
      </details>
    </section>
  );
}

export function summaryText(t: (k: string, o?: Record<string, unknown>) => string, r: AnalysisResult, labels: LabelSpec[]): string {
  const names = labels.filter((l) => l.id !== 'healthy' && r.positive[l.id]).map((l) => `${l.name} — ${l.plainName}`);
  return t(`result.summary.${r.summary}`, { labels: names.join('; ') });
}

export function ProbabilityBars({ result, labels }: { result: AnalysisResult; labels: LabelSpec[] }) {
  const { t } = useTranslation();
  return (
    <ul className="bars" aria-label={t('result.probabilities')}>
      {labels.map((l) => {
        const p = result.probabilities[l.id] ?? 0;
        const pos = result.positive[l.id];
        const verdict = t(pos ? 'result.positive' : 'result.negative');
        return (
          <li key={l.id} className={pos ? 'positive' : ''} data-label={l.id}>
            <div className="bar-head">
              <span className="bar-name">
                <strong>{l.name}</strong> <span className="muted">{l.plainName}</span>
              </span>
              <span className="bar-value">
                {pct(p)} {pos && <span className="badge">{verdict}</span>}
              </span>
            </div>
            <div className="bar" role="img" aria-label={t('result.barAria', { name: l.name, value: pct(p), threshold: pct(l.threshold), verdict })}>
              <div className="bar-fill" style={{ width: pct(Math.min(1, Math.max(0, p))), background: pos ? (l.colour ?? 'var(--accent)') : undefined }} />
              <div className="bar-threshold" style={{ left: pct(l.threshold) }} title={t('result.threshold', { value: pct(l.threshold) })} />
            </div>
            <div className="muted small">{t('result.threshold', { value: pct(l.threshold) })}</div>
          </li>
        );
      })}
    </ul>
  );
}

export function ResultPanel({ photo }: { photo: PhotoItem | undefined }) {
  const { t } = useTranslation();
  const labels = useApp(labelsOf);
  // the map a running analysis computes: the one set now (the runner read it when it started)
  const cam = useApp((s) => s.settings.cam);
  if (!photo) return <p className="muted">{t('result.select')}</p>;
  const r = photo.result;
  if (photo.status === 'error' && photo.error) {
    const key = `errors.${photo.error.code}`;
    return (
      <section className="panel result" aria-labelledby="result-heading">
        <h2 id="result-heading">{t('result.heading')}</h2>
        <div role="alert" className="error-box" data-testid="photo-error" data-code={photo.error.code}>
          <p>
            <strong>{t('result.failed')}</strong>
          </p>
          <p>{t(key, { message: photo.error.message, defaultValue: photo.error.message })}</p>
        </div>
      </section>
    );
  }
  return (
    <section className="panel result" aria-labelledby="result-heading" aria-busy={!r}>
      <h2 id="result-heading">{t('result.heading')}</h2>
      {!r ? (
        <div className="waiting">
          <p className="muted" role="status">
            {photo.status === 'cancelled' ? t('errors.cancelled') : `${photo.stage ? t(`stage.${photo.stage === 'gradcam' ? cam : photo.stage}`) : t('result.waiting')}…`}
          </p>
          {(photo.status === 'analysing' || photo.status === 'decoding') && (
            <button type="button" onClick={() => getRunner().cancel(photo.id)}>
              {t('result.cancel')}
            </button>
          )}
          {photo.status === 'cancelled' && (
            <button type="button" onClick={() => appStore.getState().retry(photo.id)}>
              {t('result.retry')}
            </button>
          )}
        </div>
      ) : (
        <>
          <QualityVerdict photo={photo} />
          <p className={`summary summary-${r.summary}`} data-testid="summary" role="status">
            {summaryText(t, r, labels)}
          </p>
          {(r.summary !== 'ungradable' || r.forced) && <ProbabilityBars result={r} labels={labels} />}
          <dl className="model-line">
            <div>
              <dt>{t('result.model')}</dt>
              <dd data-testid="model-name">{r.model}</dd>
            </div>
            <div>
              <dt>{t('result.backend')}</dt>
              <dd data-testid="backend">{r.backend}</dd>
            </div>
            {(r.summary !== 'ungradable' || r.forced) && (
              <div>
                <dt>{t('result.camMethod')}</dt>
                <dd data-testid="cam-method">{t(`viewer.cam.${camOf(r)}`)}</dd>
              </div>
            )}
          </dl>
          <details>
            <summary>{t('result.timings')}</summary>
            <table className="timings">
              <tbody>
                {STAGES.filter((s) => r.timingsMs[s] !== undefined).map((s) => (
                  <tr key={s}>
                    <th scope="row">{t(`stage.${s === 'gradcam' ? camOf(r) : s}`)}</th>
                    {/* the gate ran in its own worker beside the model: its time is not part of the total */}
                    <td>{t(s === 'quality' && r.qualityInParallel ? 'result.msParallel' : 'result.ms', { value: Math.round(r.timingsMs[s]!) })}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {r.photoKernels && <p className="timings-note" data-testid="photo-kernels">{t(`result.photoKernels.${r.photoKernels}`)}</p>}
          </details>
        </>
      )}
    </section>
  );
}
