import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import type { LabelMetrics } from '../core/types';
import { useApp } from '../store';
import { isPlaceholder } from '../services/model-card';
import { loadModelCard } from '../services/instance';

const f3 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(3));

/** The model card, straight from the bundle's metadata.json (and optional roc-*.svg files). */
export function ModelCard() {
  const { t } = useTranslation();
  const card = useApp((s) => s.card);
  useEffect(() => {
    void loadModelCard();
  }, []);
  if (card.status === 'error')
    return (
      <section className="panel" aria-labelledby="mc-h">
        <h2 id="mc-h">{t('model.heading')}</h2>
        <p role="alert" className="error-box">
          {card.error?.message}
        </p>
      </section>
    );
  const m = card.metadata;
  if (!m) return <p role="status">{t('model.loading')}</p>;
  return (
    <article className="panel model-card" aria-labelledby="mc-h">
      <h2 id="mc-h">
        {t('model.heading')}: {m.name}
      </h2>
      {isPlaceholder(m) && (
        <p className="error-box" role="note">
          {t('model.placeholder')}
        </p>
      )}
      <dl className="kv">
        <dt>{t('model.name')}</dt>
        <dd>{m.name}</dd>
        <dt>{t('model.version')}</dt>
        <dd>{m.version}</dd>
        <dt>{t('model.architecture')}</dt>
        <dd>{m.architecture}</dd>
        <dt>{t('model.created')}</dt>
        <dd>{m.createdAt}</dd>
      </dl>
      <h3>{t('model.intendedUse')}</h3>
      <p>{m.intendedUse}</p>
      <h3>{t('model.training')}</h3>
      <p>{m.training?.summary}</p>
      {m.training?.datasets?.length ? (
        <>
          <h4>{t('model.datasets')}</h4>
          <ul>
            {m.training.datasets.map((d) => (
              <li key={d}>{d}</li>
            ))}
          </ul>
        </>
      ) : null}
      <h3>{t('model.evaluation')}</h3>
      {!m.evaluation?.length ? (
        <p className="muted">{t('model.noEvaluation')}</p>
      ) : (
        m.evaluation.map((ev, i) => {
          const rows = Object.entries(ev.perLabel) as [string, LabelMetrics][];
          const pg = rows.some(([, x]) => x.pointingGame !== undefined);
          return (
            <div className="table-wrap" key={i}>
              <table className="metrics">
                <caption>{t('model.metricsCaption', { dataset: ev.dataset, description: ev.description })}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('model.label')}</th>
                    <th scope="col">{t('model.sensitivity')}</th>
                    <th scope="col">{t('model.specificity')}</th>
                    <th scope="col">{t('model.accuracy')}</th>
                    <th scope="col">{t('model.auc')}</th>
                    <th scope="col">{t('model.n')}</th>
                    <th scope="col">{t('model.positives')}</th>
                    {pg && <th scope="col">{t('model.pointing')}</th>}
                  </tr>
                </thead>
                <tbody>
                  {rows.map(([id, x]) => (
                    <tr key={id}>
                      <th scope="row">{m.labels.find((l) => l.id === id)?.name ?? id}</th>
                      <td>{f3(x.sensitivity)}</td>
                      <td>{f3(x.specificity)}</td>
                      <td>{f3(x.accuracy)}</td>
                      <td>{f3(x.auc)}</td>
                      <td>{x.n}</td>
                      <td>{x.positives}</td>
                      {pg && <td>{f3(x.pointingGame)}</td>}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        })
      )}
      {card.rocs && card.rocs.length > 0 && (
        <>
          <h3>{t('model.roc')}</h3>
          <div className="rocs">
            {card.rocs.map((r) => (
              <figure key={r.name}>
                <img src={r.url} alt={`ROC ${r.name}`} width={280} />
                <figcaption>{r.name}</figcaption>
              </figure>
            ))}
          </div>
        </>
      )}
      <h3>{t('model.thresholds')}</h3>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">{t('model.label')}</th>
              <th scope="col">{t('model.colour')}</th>
              <th scope="col">{t('model.threshold')}</th>
            </tr>
          </thead>
          <tbody>
            {m.labels.map((l) => (
              <tr key={l.id}>
                <th scope="row">
                  {l.name} <span className="muted">({l.plainName})</span>
                </th>
                <td>{l.colour ? <span className="swatch" role="img" style={{ background: l.colour }} aria-label={t('model.colourValue', { colour: l.colour })} /> : '—'}</td>
                <td>{l.threshold.toFixed(3)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h3>{t('model.limitations')}</h3>
      <ul>
        {m.limitations.map((l, i) => (
          <li key={i}>{l}</li>
        ))}
      </ul>
      <details>
        <summary>{t('model.preprocessing')}</summary>
        <pre>{JSON.stringify(m.preprocess, null, 2)}</pre>
      </details>
      <details>
        <summary>{t('model.hashes')}</summary>
        <ul className="mono">
          {Object.entries(m.weightsSha256).map(([f, h]) => (
            <li key={f}>
              {f}: {h}
            </li>
          ))}
        </ul>
      </details>
    </article>
  );
}
