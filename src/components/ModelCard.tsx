import { Fragment, useEffect, useId } from 'react';
import { useTranslation } from 'react-i18next';
import type { EvaluationSummary, LabelMetrics, LabelSpec } from '../core/types';
import { useApp } from '../store';
import { evaluationSource, isCellMap, isPlaceholder, localizationViews, rocGroups, type LocalizationRowView, type LocalizationView } from '../services/model-card';
import { loadModelCard, loadModelCardRocs } from '../services/instance';
import { TableScroll } from './TableScroll';

const f3 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(3));

/** The model card, straight from the bundle's metadata.json (and optional roc-*.svg files). */
export function ModelCard() {
  const { t } = useTranslation();
  const card = useApp((s) => s.card);
  useEffect(() => {
    void loadModelCard();
  }, []);
  useEffect(() => {
    if (card.status === 'ready') void loadModelCardRocs();
  }, [card.status, card.metadata]);
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
            <Fragment key={i}>
              <TableScroll label={t('model.metricsCaption', { dataset: ev.dataset, description: ev.description })}>
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
              </TableScroll>
              <Localization ev={ev} labels={m.labels} inputSize={m.inputSize} />
            </Fragment>
          );
        })
      )}
      {card.rocs && card.rocs.length > 0 && <Rocs rocs={card.rocs} evaluation={m.evaluation} />}
      <h3>{t('model.thresholds')}</h3>
      <TableScroll label={t('model.thresholds')}>
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
      </TableScroll>
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

/**
 * ROC plots. A bundle with the first evaluation's plots only (roc-*.svg) shows them as it always
 * did; when later evaluations brought their own (eval<k>-roc-*.svg), each set is headed with its
 * dataset (h4, beside the evaluation's tables) so no curve is read as another data set's.
 */
function Rocs({ rocs, evaluation }: { rocs: { name: string; url: string }[]; evaluation: EvaluationSummary[] | undefined }) {
  const { t } = useTranslation();
  const groups = rocGroups(rocs, evaluation);
  if (groups.length === 1 && groups[0].evaluation === 0)
    return (
      <>
        <h3>{t('model.roc')}</h3>
        <div className="rocs">
          {rocs.map((r) => (
            <figure key={r.name}>
              <img src={r.url} alt={`ROC ${r.name}`} width={280} />
              <figcaption>{r.name}</figcaption>
            </figure>
          ))}
        </div>
      </>
    );
  // each set carries its own h4 under the Evaluation heading; a plain 'ROC curves' h3 above them only repeated it
  return (
    <>
      {groups.map((g) => {
        const dataset = g.dataset ?? t('model.rocEvaluation', { index: g.evaluation + 1 });
        return (
          <Fragment key={g.evaluation}>
            <h4>{t('model.rocDataset', { dataset })}</h4>
            <div className="rocs">
              {g.rocs.map((r) => (
                <figure key={r.name}>
                  <img src={r.url} alt={`ROC ${r.label} (${dataset})`} width={280} />
                  <figcaption>{r.label}</figcaption>
                </figure>
              ))}
            </div>
          </Fragment>
        );
      })}
    </>
  );
}

/** Below this many images a share is too uncertain to read without a warning. */
const FEW_IMAGES = 20;

/**
 * "Where the model looks": one table per explanation map scored by `npm run evaluate`
 * (training/src/report). Renders nothing for evaluations written before localization existed,
 * so older bundles keep their card unchanged. The pointing-game definition and where it was
 * measured are said once per evaluation; each table points at them with aria-describedby.
 */
function Localization({ ev, labels, inputSize }: { ev: EvaluationSummary; labels: LabelSpec[]; inputSize: number }) {
  const { t, i18n } = useTranslation();
  const headingId = useId();
  const introId = useId();
  const views = localizationViews(ev, labels, inputSize);
  if (!views.length) return null;
  const numFmt = new Intl.NumberFormat(i18n.language, { maximumFractionDigits: 1 });
  const source = evaluationSource(ev);
  const measured =
    source === 'synthetic'
      ? t('model.locMeasuredSynthetic', { dataset: ev.dataset })
      : source === 'real'
        ? t('model.locMeasuredReal', { dataset: ev.dataset })
        : t('model.locMeasuredUnknown', { dataset: ev.dataset });
  const tolerance = views.find((v) => v.tolerancePx !== null)?.tolerancePx ?? null;
  return (
    <section className="localization" aria-labelledby={headingId} data-testid="localization" data-dataset={ev.dataset}>
      <h4 id={headingId}>{t('model.locHeading', { dataset: ev.dataset })}</h4>
      <p id={introId}>
        {tolerance === null ? t('model.locIntroNoTolerance') : t('model.locIntro', { tolerance: numFmt.format(tolerance), size: inputSize })}{' '}
        <strong>{measured}</strong>
      </p>
      {views.map((v) => (
        <LocalizationTableView key={v.map} view={v} dataset={ev.dataset} introId={introId} sharedTolerance={tolerance} labels={labels} />
      ))}
    </section>
  );
}

function LocalizationTableView({
  view: v,
  dataset,
  introId,
  sharedTolerance,
  labels,
}: {
  view: LocalizationView;
  dataset: string;
  introId: string;
  sharedTolerance: number | null;
  labels: LabelSpec[];
}) {
  const { t, i18n } = useTranslation();
  const noteId = useId();
  const pctFmt = new Intl.NumberFormat(i18n.language, { style: 'percent', maximumFractionDigits: 1 });
  const numFmt = new Intl.NumberFormat(i18n.language, { maximumFractionDigits: 1 });
  const pct = (x: number | null) => (x === null ? '—' : pctFmt.format(x));
  // Grad-CAM and HiResCAM live on the cell grid (bound column, grid note); the guided maps do not
  const cam = isCellMap(v.map);
  const hires = v.map === 'hirescam' || v.map === 'guided-hirescam';
  const mapName = cam
    ? v.grid
      ? t(hires ? 'model.locMapHirescamGrid' : 'model.locMapGradcamGrid', { grid: v.grid })
      : t(hires ? 'model.locMapHirescam' : 'model.locMapGradcam')
    : t(hires ? 'model.locMapGuidedHires' : 'model.locMapGuided');
  const cellNote = v.cellPx
    ? t(hires ? 'model.locHirescamNote' : 'model.locGradcamNote', { cell: numFmt.format(v.cellPx) })
    : t(hires ? 'model.locHirescamNoteNoGrid' : 'model.locGradcamNoteNoGrid');
  const name = (r: LocalizationRowView) => {
    if (r.label === 'red') {
      const n = (lid: string) => labels.find((l) => l.id === lid)?.name ?? lid;
      return t('model.locRed', { ma: n('ma'), hm: n('hm') });
    }
    return labels.find((l) => l.id === r.label)?.name ?? r.label;
  };
  const score = (x: number | null, hits: number | null, n: number) => (x === null || hits === null || n === 0 ? '—' : t('model.locHitsOf', { pct: pct(x), hits, n }));
  const few = v.minN !== null && v.minN < FEW_IMAGES;
  const reach = v.rows
    .filter((r) => r.lesions !== null && r.reachableLesions !== null)
    .map((r) => t('model.locReachableItem', { label: name(r), pct: pct(r.reachableLesions! / r.lesions!), reachable: r.reachableLesions, lesions: r.lesions }));
  const notes = [
    // a table scored at another tolerance than the one the intro states says so itself
    v.tolerancePx !== null && v.tolerancePx !== sharedTolerance ? t('model.locOwnTolerance', { tolerance: numFmt.format(v.tolerancePx) }) : null,
    cam ? cellNote : t(hires ? 'model.locGuidedHiresNote' : 'model.locGuidedNote'),
    v.contrastSaliency ? t('model.locContrastNote') : null,
    // the per-image bound is near 100 % when photos carry many lesions; per lesion the grid's limit shows
    reach.length ? t('model.locReachable', { list: reach.join(', ') }) : null,
    v.hasAupr ? t('model.locAuprNote') : null,
    few ? t('model.locFewImages', { min: FEW_IMAGES }) : null,
  ].filter((x): x is string => x !== null);
  return (
    <div className="loc-map">
      {v.rows.length === 0 ? (
        <p className="muted">
          <strong>{mapName}</strong>: {t('model.locNoRows')}
        </p>
      ) : (
        <TableScroll label={t('model.locCaption', { map: mapName, dataset })}>
          <table className="metrics" aria-describedby={`${introId} ${noteId}`}>
            <caption>{t('model.locCaption', { map: mapName, dataset })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('model.locLesion')}</th>
                <th scope="col">{t('model.locMarked')}</th>
                <th scope="col">{t('model.locImages')}</th>
                <th scope="col">{t('model.locPointing')}</th>
                <th scope="col">{t('model.locChance')}</th>
                {cam && <th scope="col">{t('model.locBound')}</th>}
                {v.hasAupr && <th scope="col">{t('model.locAupr')}</th>}
              </tr>
            </thead>
            <tbody>
              {v.rows.map((r) => (
                <tr key={`${r.label}:${r.source}`}>
                  {/* one short name stays beside its chip; the longer 'red lesions (… or …)' may wrap */}
                  <th scope="row" style={r.label === 'red' ? undefined : { whiteSpace: 'nowrap' }}>
                    {r.colours.map((c) => (
                      <span key={c} className="swatch" aria-hidden="true" style={{ background: c, marginRight: '0.3em' }} />
                    ))}
                    {name(r)}
                  </th>
                  <td>{r.source === 'boxes' ? t('model.locSourceBoxes') : t('model.locSourceMask')}</td>
                  <td>{r.n}</td>
                  <td>{score(r.pointingGame, r.hits, r.n)}</td>
                  <td>{r.n === 0 ? '—' : pct(r.chance)}</td>
                  {cam && <td>{score(r.upperBound, r.upperBoundHits, r.n)}</td>}
                  {v.hasAupr && <td>{r.meanAp === null ? '—' : t('model.locAuprValue', { ap: r.meanAp.toFixed(3), chance: r.prevalence === null ? '—' : r.prevalence.toFixed(3) })}</td>}
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      {/* read after the numbers, as a table footnote; screen readers get it with the table */}
      <p id={noteId} className="muted">
        {notes.join(' ')}
      </p>
    </div>
  );
}
