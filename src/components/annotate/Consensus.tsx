import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LABEL_IDS, type LesionLabelId } from '../../core/types';
import {
  adjKey,
  agreementTable,
  consensus,
  consensusCsv,
  disagreements,
  kappaWords,
  raterNames,
  readAnnotatorCsv,
  type AnnotatorSet,
  type ConsensusRule,
} from '../../services/annotations/consensus';
import type { Bit } from '../../services/annotations/labels';
import { downloadText } from '../../services/download';
import { TableScroll } from '../TableScroll';

const SHOW_MAX = 200;
const fmt = (x: number, d = 2) => (Number.isNaN(x) ? '—' : x.toFixed(d));

/** Import several annotators' CSVs, compare, adjudicate, export the consensus labels.csv. */
export function Consensus() {
  const { t } = useTranslation();
  const [sets, setSets] = useState<AnnotatorSet[]>([]);
  const [errors, setErrors] = useState<string[]>([]);
  const [kind, setKind] = useState<'majority' | 'atLeast'>('majority');
  const [k, setK] = useState(2);
  const [adj, setAdj] = useState<Map<string, Bit>>(new Map());
  const input = useRef<HTMLInputElement>(null);
  const photoInput = useRef<HTMLInputElement>(null);
  // optional: the photos themselves, so the adjudicator sees what is disputed (file name → object URL)
  const [photos, setPhotos] = useState<Map<string, string>>(new Map());
  useEffect(() => () => photos.forEach((u) => URL.revokeObjectURL(u)), [photos]);

  const rule: ConsensusRule = kind === 'majority' ? { kind } : { kind, k: Math.max(1, Math.round(k) || 1) };
  const names = raterNames(sets);
  const table = useMemo(() => (sets.length >= 2 ? agreementTable(sets) : []), [sets]);
  const dis = useMemo(() => (sets.length >= 2 ? disagreements(sets, rule) : []), [sets, kind, k]); // eslint-disable-line react-hooks/exhaustive-deps
  const undecided = useMemo(
    () => (sets.length >= 2 ? consensus(sets, rule, adj).reduce((n, r) => n + LABEL_IDS.filter((l) => l !== 'healthy' && r.labels[l] === null).length, 0) : 0),
    [sets, kind, k, adj], // eslint-disable-line react-hooks/exhaustive-deps
  );

  const open = async (files: File[]) => {
    const got: AnnotatorSet[] = [];
    const errs: string[] = [];
    for (const f of files) {
      try {
        got.push(readAnnotatorCsv(await f.text(), f.name));
      } catch (e) {
        errs.push(e instanceof Error ? e.message : String(e));
      }
    }
    setSets((s) => [...s, ...got]);
    setErrors(errs);
  };
  const decideCell = (image: string, label: LesionLabelId, v: Bit | null) =>
    setAdj((m) => {
      const n = new Map(m);
      if (v === null) n.delete(adjKey(image, label));
      else n.set(adjKey(image, label), v);
      return n;
    });

  return (
    <section className="panel ann-consensus" aria-labelledby="ann-cons-h" data-testid="ann-consensus">
      <h3 id="ann-cons-h">{t('annotate.consensus.heading')}</h3>
      <p className="small">{t('annotate.consensus.intro')}</p>
      <input
        ref={input}
        className="visually-hidden"
        type="file"
        accept=".csv,text/csv"
        multiple
        data-testid="ann-csv-input"
        aria-label={t('annotate.consensus.open')}
        tabIndex={-1}
        onChange={(e) => {
          const files = [...(e.currentTarget.files ?? [])];
          e.currentTarget.value = '';
          void open(files);
        }}
      />
      <button type="button" className="primary" onClick={() => input.current?.click()}>
        {t('annotate.consensus.open')}
      </button>
      <input
        ref={photoInput}
        className="visually-hidden"
        type="file"
        accept="image/*"
        multiple
        data-testid="ann-consensus-photos"
        aria-label={t('annotate.consensus.openPhotos')}
        tabIndex={-1}
        onChange={(e) => {
          const files = [...(e.currentTarget.files ?? [])];
          e.currentTarget.value = '';
          setPhotos((m) => new Map([...m, ...files.map((f) => [f.name, URL.createObjectURL(f)] as const)]));
        }}
      />{' '}
      <button type="button" onClick={() => photoInput.current?.click()}>
        {t('annotate.consensus.openPhotos')}
      </button>
      {photos.size > 0 && <span className="small muted"> {t('annotate.consensus.photosOpen', { n: photos.size })}</span>}
      {errors.map((m) => (
        <p key={m} className="error-box small" role="alert">
          {m}
        </p>
      ))}
      {sets.length > 0 && (
        <>
          <h4>{t('annotate.consensus.files')}</h4>
          <ul data-testid="ann-raters">
            {sets.map((s, i) => (
              <li key={i}>
                {t('annotate.consensus.fileLine', { annotator: names[i], file: s.file, n: s.labels.size })}{' '}
                <button
                  type="button"
                  aria-label={t('annotate.consensus.remove', { name: names[i] })}
                  onClick={() => {
                    setSets((x) => x.filter((_, j) => j !== i));
                    setAdj(new Map());
                  }}
                >
                  ×
                </button>
                {s.warnings.length > 0 && (
                  <ul className="small muted">
                    {s.warnings.slice(0, 5).map((w) => (
                      <li key={w}>{w}</li>
                    ))}
                  </ul>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
      {sets.length === 1 && <p className="muted">{t('annotate.consensus.needTwo')}</p>}
      {sets.length >= 2 && (
        <>
          <h4>{t('annotate.consensus.agreement')}</h4>
          <TableScroll label={t('annotate.consensus.agreement')}>
            <table data-testid="ann-agreement">
              <thead>
                <tr>
                  <th scope="col">{t('annotate.consensus.label')}</th>
                  <th scope="col">{t('annotate.consensus.method')}</th>
                  <th scope="col">{t('annotate.consensus.kappa')}</th>
                  <th scope="col">{t('annotate.consensus.words')}</th>
                  <th scope="col">{t('annotate.consensus.n')}</th>
                  <th scope="col">{t('annotate.consensus.observed')}</th>
                  <th scope="col">{t('annotate.consensus.positiveRate')}</th>
                </tr>
              </thead>
              <tbody>
                {table.map((r) => (
                  <tr key={r.label} data-label={r.label}>
                    <th scope="row">{t(`annotate.labels.${r.label}`)}</th>
                    <td>{t(`annotate.consensus.${r.method}`)}</td>
                    <td className="mono" data-testid={`kappa-${r.label}`}>
                      {fmt(r.kappa, 3)}
                    </td>
                    <td>{Number.isNaN(r.kappa) ? t('annotate.consensus.undefinedKappa') : kappaWords(r.kappa)}</td>
                    <td>{r.n}</td>
                    <td>{Number.isNaN(r.observed) ? '—' : `${(r.observed * 100).toFixed(0)}%`}</td>
                    <td>{Number.isNaN(r.positiveRate) ? '—' : `${(r.positiveRate * 100).toFixed(0)}%`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
          <fieldset>
            <legend>{t('annotate.consensus.rule')}</legend>
            <label>
              <input type="radio" name="ann-rule" checked={kind === 'majority'} onChange={() => setKind('majority')} /> {t('annotate.consensus.majority')}
            </label>
            <label>
              <input type="radio" name="ann-rule" checked={kind === 'atLeast'} onChange={() => setKind('atLeast')} data-testid="ann-rule-atleast" /> {t('annotate.consensus.atLeast')}
            </label>{' '}
            <label>
              {t('annotate.consensus.k')}{' '}
              <input type="number" min={1} max={sets.length} value={k} onChange={(e) => setK(Number(e.currentTarget.value))} disabled={kind !== 'atLeast'} data-testid="ann-rule-k" />
            </label>
          </fieldset>
          <h4>{t('annotate.consensus.disagreements', { n: dis.length })}</h4>
          {!dis.length ? (
            <p className="muted">{t('annotate.consensus.noDisagreements')}</p>
          ) : (
            <TableScroll label={t('annotate.consensus.disagreements', { n: dis.length })}>
              <table data-testid="ann-disagreements">
                <thead>
                  <tr>
                    <th scope="col">{t('annotate.consensus.image')}</th>
                    <th scope="col">{t('annotate.consensus.label')}</th>
                    {names.map((n) => (
                      <th scope="col" key={n}>
                        {n}
                      </th>
                    ))}
                    <th scope="col">{t('annotate.consensus.ruled')}</th>
                    <th scope="col">{t('annotate.consensus.decide')}</th>
                  </tr>
                </thead>
                <tbody>
                  {dis.slice(0, SHOW_MAX).map((d) => {
                    const cur = adj.get(adjKey(d.image, d.label));
                    return (
                      <tr key={adjKey(d.image, d.label)}>
                        <td className="mono">
                          {photos.has(d.image) ? (
                            <a href={photos.get(d.image)} target="_blank" rel="noopener" className="ann-thumb">
                              <img src={photos.get(d.image)} alt={t('annotate.photoAlt', { name: d.image })} width={96} />
                              <span>{d.image}</span>
                            </a>
                          ) : (
                            d.image
                          )}
                        </td>
                        <td>{t(`annotate.labels.${d.label}`)}</td>
                        {d.votes.map((v, i) => (
                          <td key={i}>{v === null ? '—' : v}</td>
                        ))}
                        <td>{d.ruled === null ? t('annotate.consensus.undecided') : d.ruled}</td>
                        <td>
                          <div className="ann-row" role="group" aria-label={`${d.image} ${d.label}`}>
                            <button type="button" aria-pressed={cur === 1} onClick={() => decideCell(d.image, d.label, 1)}>
                              {t('annotate.consensus.setPositive')}
                            </button>
                            <button type="button" aria-pressed={cur === 0} onClick={() => decideCell(d.image, d.label, 0)}>
                              {t('annotate.consensus.setNegative')}
                            </button>
                            <button type="button" aria-pressed={cur === undefined} onClick={() => decideCell(d.image, d.label, null)}>
                              {t('annotate.consensus.clear')}
                            </button>
                          </div>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
              {dis.length > SHOW_MAX && <p className="small muted">{t('annotate.consensus.more', { n: dis.length - SHOW_MAX })}</p>}
            </TableScroll>
          )}
          {undecided > 0 && <p className="small">{t('annotate.consensus.undecidedCount', { n: undecided })}</p>}
          <button type="button" className="primary" onClick={() => downloadText('labels.csv', consensusCsv(sets, rule, adj))} data-testid="ann-consensus-export">
            {t('annotate.consensus.export')}
          </button>
        </>
      )}
    </section>
  );
}
