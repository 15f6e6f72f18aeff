import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LABEL_IDS } from '../../core/types';
import { appStore, useApp } from '../../store';
import { currentRecord, shownVector } from '../../store/annotate';
import { isDone, labelStatus } from '../../services/annotations/labels';
import { isPlaceholder } from '../../services/model-card';
import type { AnnotationController } from '../../services/annotations/controller';
import { Standard } from './Standard';
import { downloadText } from '../../services/download';

/** Keys go to a text field being typed in; a focused check box or button still gets the shortcuts. */
const isTyping = (el: EventTarget | null) => {
  const e = el as HTMLElement | null;
  if (!e) return false;
  if (e.tagName === 'INPUT') return !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'file'].includes((e as HTMLInputElement).type);
  return e.tagName === 'TEXTAREA' || e.tagName === 'SELECT' || e.isContentEditable;
};

/** Keys of the annotator view (ignored while typing in a field). Returns true when handled. */
export function handleAnnotateKey(e: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'target'>): boolean {
  if (isTyping(e.target) || e.altKey) return false;
  const st = appStore.getState();
  const { ann } = st;
  const k = e.key;
  if ((e.ctrlKey || e.metaKey) && k.toLowerCase() === 'z') {
    ann.undo();
    return true;
  }
  if (e.ctrlKey || e.metaKey) return false;
  const n = Number(k);
  if (Number.isInteger(n) && n >= 1 && n <= LABEL_IDS.length) ann.toggle(LABEL_IDS[n - 1]);
  else if (k === '0') ann.toggleUngradable();
  else if (k === 'ArrowRight' || k === 'n' || k === 'N') ann.go(1);
  else if (k === 'ArrowLeft' || k === 'p' || k === 'P') ann.go(-1);
  else if (k === 'u' || k === 'U') ann.undo();
  else if (k === 'd' || k === 'D' || k === '?') ann.setShowStandard(!st.annotate.showStandard);
  else if (k === 'Escape' && st.annotate.showStandard) ann.setShowStandard(false);
  else if (k === 'Enter') {
    // Enter on a focused button or link keeps its own meaning (keyboard users export with it)
    const tag = (e.target as HTMLElement | null)?.tagName;
    if (tag === 'BUTTON' || tag === 'A' || tag === 'SUMMARY') return false;
    ann.acceptSuggestion();
  }
  else return false;
  return true;
}

function usePhotoUrl(ctl: AnnotationController, photoId: string | undefined): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!photoId) return;
    let live = true;
    let made: string | null = null;
    void ctl.photoBlob(photoId).then((b) => {
      if (!live || !b) return;
      made = URL.createObjectURL(b);
      setUrl(made);
    });
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
      setUrl(null);
    };
  }, [ctl, photoId]);
  return url;
}

/** One photo at a time: the five boxes, navigation, progress, time, suggestions, export. */
export function Annotator({ ctl }: { ctl: AnnotationController }) {
  const { t } = useTranslation();
  const a = useApp((s) => s.annotate);
  const { ann } = appStore.getState();
  const photo = a.photos[a.index];
  const rec = currentRecord(a);
  const { v, suggested } = shownVector(a, rec);
  const url = usePhotoUrl(ctl, photo?.id);
  const placeholderModel = useApp((s) => isPlaceholder(s.card.metadata));
  const [now, setNow] = useState(() => Date.now());
  const [exportMsg, setExportMsg] = useState<string | null>(null);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (handleAnnotateKey(e)) e.preventDefault();
    };
    const onVis = () => (document.hidden ? appStore.getState().ann.pauseClock() : appStore.getState().ann.resumeClock());
    window.addEventListener('keydown', onKey);
    document.addEventListener('visibilitychange', onVis);
    appStore.getState().ann.resumeClock();
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      window.removeEventListener('keydown', onKey);
      document.removeEventListener('visibilitychange', onVis);
      clearInterval(tick);
      appStore.getState().ann.pauseClock();
    };
  }, []);

  if (!a.session || !photo || !rec) return null;
  const records = a.photos.map((p) => a.records[p.id]);
  const labelled = records.filter(isDone);
  const thisMs = rec.ms + (a.shownAt !== null ? Math.max(0, now - a.shownAt) : 0);
  // the photo on screen counts with its running time
  const liveMs = (r: typeof rec) => (r.id === rec.id ? thisMs : r.ms);
  const meanMs = labelled.length ? labelled.reduce((s, r) => s + liveMs(r), 0) / labelled.length : null;
  const status = labelStatus(rec.labels);
  const sugState = a.suggestionStatus[photo.id];

  const doExport = () => {
    const r = ctl.exportCsv();
    downloadText('labels.csv', r.csv);
    setExportMsg(`${t('annotate.exported', { rows: r.rows })}${r.skipped.length ? ` ${t('annotate.skipped', { n: r.skipped.length })}` : ''}`);
  };

  return (
    <div className="ann-work">
      <div className="ann-top">
        <label className="ann-name">
          {t('annotate.annotator')}{' '}
          <input value={a.session.annotator} onChange={(e) => ann.setAnnotator(e.currentTarget.value)} data-testid="ann-annotator" />
        </label>
        <p className="ann-progress" data-testid="ann-progress" aria-live="polite">
          <strong>{t('annotate.progress', { n: a.index + 1, total: a.photos.length })}</strong> · {t('annotate.done', { done: labelled.length, total: a.photos.length })} ·{' '}
          {t('annotate.timeThis', { s: (thisMs / 1000).toFixed(0) })}
          {meanMs !== null ? ` · ${t('annotate.timeMean', { s: (meanMs / 1000).toFixed(1) })}` : ''}
        </p>
        <progress max={a.photos.length} value={labelled.length} aria-label={t('annotate.done', { done: labelled.length, total: a.photos.length })} />
      </div>
      <div className="ann-main">
        <figure className="ann-photo">
          {url ? <img src={url} alt={t('annotate.photoAlt', { name: photo.name })} data-testid="ann-photo" /> : <div className="ann-photo-wait">{t('annotate.loading')}</div>}
          <figcaption className="mono">{photo.name}</figcaption>
        </figure>
        <div className="ann-side">
          <fieldset className={`ann-labels${suggested ? ' ann-suggested' : ''}`} data-testid="ann-labels">
            <legend>{t('annotate.labelsLegend')}</legend>
            {suggested && (
              <p className="ann-suggestion-note small" data-testid="ann-suggestion-note">
                <span className="badge">{t('annotate.suggestedBadge')}</span> {t('annotate.suggested')}
              </p>
            )}
            {LABEL_IDS.map((l, i) => (
              <label key={l} className={`ann-box ann-box-${l}`}>
                <input type="checkbox" checked={v?.[l] === 1} onChange={() => ann.toggle(l)} data-testid={`ann-check-${l}`} />
                <kbd>{i + 1}</kbd> {t(`annotate.labels.${l}`)}
                {suggested && v?.[l] === 1 ? <span className="badge ann-sugg-badge">{t('annotate.suggestedBadge')}</span> : null}
                {suggested && rec.suggestion ? <span className="small muted">{t('annotate.probability', { p: Math.round(rec.suggestion.probabilities[l] * 100) })}</span> : null}
              </label>
            ))}
            <label className="ann-box ann-box-ungradable">
              <input type="checkbox" checked={!!rec.ungradable} onChange={() => ann.toggleUngradable()} data-testid="ann-check-ungradable" />
              <kbd>0</kbd> {t('annotate.ungradable')}
            </label>
            <p className={`small ann-status ann-status-${rec.ungradable ? 'complete' : status}`} data-testid="ann-status">
              {rec.ungradable ? t('annotate.status.ungradable') : t(`annotate.status.${status}`)}
            </p>
            <p className="small muted">{t('annotate.healthyRule')}</p>
            {suggested && (
              <button type="button" onClick={() => ann.acceptSuggestion()}>
                {t('annotate.accept')}
              </button>
            )}
            {a.prefs.showSuggestions && placeholderModel && (
              <p className="small error-box" data-testid="ann-placeholder-model">
                {t('annotate.suggestionPlaceholder')}
              </p>
            )}
            {suggested && rec.suggestion && <p className="small muted">{t('annotate.suggestionModel', { model: rec.suggestion.model })}</p>}
            {a.prefs.showSuggestions && sugState === 'pending' && <p className="small muted">{t('annotate.suggestionPending')}</p>}
            {a.prefs.showSuggestions && sugState === 'error' && <p className="small muted">{t('annotate.suggestionError')}</p>}
          </fieldset>
          <div className="ann-row">
            <button type="button" onClick={() => ann.go(-1)} disabled={a.index === 0}>
              ← {t('annotate.prev')}
            </button>
            <button type="button" className="primary" onClick={() => ann.go(1)} disabled={a.index >= a.photos.length - 1}>
              {t('annotate.next')} →
            </button>
            <button type="button" onClick={() => ann.undo()} disabled={!a.undo.length}>
              {t('annotate.undo')}
            </button>
          </div>
          <p className="small muted">{t('annotate.keys')}</p>
          <button type="button" onClick={() => ann.setShowStandard(!a.showStandard)} aria-expanded={a.showStandard}>
            {a.showStandard ? t('annotate.standardHide') : t('annotate.standardShow')}
          </button>
          <label className="ann-sugg-toggle">
            <input type="checkbox" checked={a.prefs.showSuggestions} onChange={(e) => void ctl.setShowSuggestions(e.currentTarget.checked)} data-testid="ann-suggestions-toggle" />{' '}
            {t('annotate.suggestions')}
          </label>
          <p className="small muted">{t('annotate.suggestionsHint')}</p>
          <div className="ann-row">
            <button type="button" className="primary" onClick={doExport} data-testid="ann-export">
              {t('annotate.export')}
            </button>
            <button type="button" onClick={() => ctl.closeSession()}>
              {t('annotate.close')}
            </button>
          </div>
          {exportMsg && (
            <p className="small" role="status">
              {exportMsg}
            </p>
          )}
        </div>
      </div>
      {a.showStandard && <Standard onClose={() => ann.setShowStandard(false)} />}
    </div>
  );
}
