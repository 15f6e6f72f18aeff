import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { CamMethod, Outline } from '../core/types';
import { appStore, camDiffers, camOf, detailsMissing, useApp, type OverlayKind, type PhotoItem } from '../store';
import { getRunner } from '../services/instance';
import { colorbar, colormapLut } from '../render/colormap';
import { dashArray, legendItems } from '../render/legend';
import { fitView, zoomAt } from '../render/view';
import { PhotoCanvas } from './PhotoCanvas';
import { labelsOf } from './ResultPanel';

const OVERLAYS: OverlayKind[] = ['gradcam', 'guided', 'combined', 'none'];

function ColourBar() {
  const { t } = useTranslation();
  const cmap = useApp((s) => s.settings.colormap);
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    ctx.putImageData(new ImageData(colorbar(colormapLut(cmap), 128, 10), 128, 10), 0, 0);
  }, [cmap]);
  return (
    <div className="colourbar">
      <span>{t('viewer.low')}</span>
      <canvas ref={ref} width={128} height={10} aria-hidden="true" />
      <span>{t('viewer.high')}</span>
    </div>
  );
}

/** Which overlay's maps are on hand right now ('' = the chosen one is still missing); e2e and the bench read it. */
function overlayReady(photo: PhotoItem, overlay: OverlayKind): string {
  if (photo.shelved) return ''; // neither the photo nor its maps are in memory yet
  const m = photo.result?.maps;
  if (overlay === 'none') return 'none';
  if (!m) return '';
  if (overlay === 'gradcam') return 'gradcam';
  if (overlay === 'guided') return m.guidedGradCam ? 'guided' : '';
  return m.combined ? 'combined' : '';
}

/**
 * The overlay choices' names: the class-activation map and its guided product are named after
 * the method the shown maps were made with (the result's camMethod; before a result, the one
 * the analysis will use), never after the current setting alone.
 */
export function overlayLabel(t: (k: string) => string, overlay: OverlayKind, cam: CamMethod): string {
  if (overlay === 'gradcam') return t(`viewer.cam.${cam}`);
  if (overlay === 'guided') return t(`viewer.camGuided.${cam}`);
  return t(`viewer.overlays.${overlay}`);
}

/** The photo's maps were made with another method than the settings now choose: say so, offer to re-analyse. */
function CamDiffers({ photo, cam }: { photo: PhotoItem; cam: CamMethod }) {
  const { t } = useTranslation();
  const method = t(`viewer.cam.${camOf(photo.result)}`);
  const wanted = t(`viewer.cam.${cam}`);
  return (
    <div className="notice small cam-differs" data-testid="cam-differs">
      <span>{t('viewer.camDiffers', { method, wanted })}</span>{' '}
      <button type="button" onClick={() => appStore.getState().reanalyse(photo.id)}>
        {t('viewer.reanalyseWith', { method: wanted })}
      </button>
    </div>
  );
}

/**
 * "Computing…" line of the on-demand maps (Guided Grad-CAM, combined), with Cancel, or why
 * they are missing, with a button to compute them again.
 */
function DetailsStatus({ photo }: { photo: PhotoItem }) {
  const { t } = useTranslation();
  const d = photo.details;
  const failed = d?.status === 'error' || d?.status === 'cancelled';
  return (
    <div className="notice small details-status" data-testid="details-status">
      <span role="status">
        {failed
          ? d?.status === 'cancelled'
            ? t('viewer.detailsCancelled')
            : t('viewer.detailsFailed', { message: d?.error?.message ?? '' })
          : `${t('viewer.computingDetails')}${d?.progress !== undefined ? ` ${Math.round(d.progress * 100)}%` : ''}`}
      </span>
      {failed ? (
        <button type="button" onClick={() => void getRunner().details(photo.id)}>
          {t('viewer.computeDetails')}
        </button>
      ) : (
        <button type="button" onClick={() => getRunner().cancel(photo.id)}>
          {t('viewer.cancelDetails')}
        </button>
      )}
    </div>
  );
}

export function Viewer({ photo }: { photo: PhotoItem }) {
  const { t } = useTranslation();
  const s = useApp((x) => x);
  const labels = labelsOf(s);
  const items = useMemo(() => legendItems(labels), [labels]);
  const [focused, setFocused] = useState<Outline | null>(null);
  const r = photo.result;
  const d = photo.display;
  const st = appStore.getState();

  const zoomBy = (k: number) => {
    if (!d) return;
    const box = document.querySelector('.viewer .photo-canvas') as HTMLElement | null;
    const w = box?.clientWidth ?? 800;
    const h = box?.clientHeight ?? 600;
    const v = s.view ?? fitView(d.width, d.height, w, h);
    st.setView(k === 0 ? { ...v, ...zoomAt(v, 1 / v.scale, w / 2, h / 2, 0, Infinity) } : zoomAt(v, k, w / 2, h / 2));
  };

  // Guided Grad-CAM and the combined map cost a guided-backprop pass per positive label: the
  // result comes without them and they are computed the first time their view is chosen.
  const missing = detailsMissing(photo, s.overlay);
  const detailsStatus = photo.details?.status;
  useEffect(() => {
    if (missing && detailsStatus !== 'error' && detailsStatus !== 'cancelled') void getRunner().details(photo.id);
  }, [missing, detailsStatus, photo.id]);

  // a photo shelved to bound the queue's memory (store shelveIdle) is decoded, and its maps recomputed, when shown
  const shelved = photo.shelved;
  useEffect(() => {
    if (shelved && !shelved.failed) void getRunner().restore(photo.id);
  }, [shelved, photo.id]);

  const outlines = r?.outlines ?? [];
  const cam = r ? camOf(r) : s.settings.cam;
  // a photo the gate refused has no model output: no heat map or outline to choose (until "Analyse anyway")
  const refused = r?.summary === 'ungradable' && !r.forced;
  return (
    <section className="panel viewer" aria-labelledby="viewer-heading" data-overlay-ready={overlayReady(photo, s.overlay)} data-cam={cam}>
      <h2 id="viewer-heading" className="visually-hidden">
        {t('viewer.heading')}
      </h2>
      {photo.notices
        .filter((n) => n.code === 'downscaled')
        .map((n, i) => (
          <p key={i} className="notice small" role="note">
            {t('viewer.downscaled', n.values ?? {})}
          </p>
        ))}
      {shelved && (
        <p className="notice small" role="status" data-testid="restoring">
          {shelved.failed ? t('viewer.restoreFailed', { message: shelved.failed }) : t('viewer.restoring')}
        </p>
      )}
      <div className="stage">
        {d ? (
          <PhotoCanvas
            photo={photo}
            labels={labels}
            overlay={s.overlay}
            labelsVisible={s.labelsVisible}
            showOutlines={s.showOutlines}
            opacity={s.opacity}
            showPreprocessed={s.showPreprocessed}
            colormap={s.settings.colormap}
            view={s.view}
            onViewChange={st.setView}
            highlight={focused}
          />
        ) : (
          <div className="photo-canvas placeholder" aria-hidden="true" />
        )}
        <div className="zoom-buttons" role="group" aria-label={t('viewer.heading')}>
          <button type="button" onClick={() => zoomBy(1.25)} aria-label={t('viewer.zoomIn')}>
            +
          </button>
          <button type="button" onClick={() => zoomBy(0.8)} aria-label={t('viewer.zoomOut')}>
            −
          </button>
          <button type="button" onClick={() => st.setView(null)}>
            {t('viewer.fit')}
          </button>
          <button type="button" onClick={() => zoomBy(0)}>
            {t('viewer.oneToOne')}
          </button>
        </div>
      </div>

      <div className="controls">
        {!refused && (
          <fieldset>
            <legend>{t('viewer.overlay')}</legend>
            {OVERLAYS.map((o) => (
              <label key={o} className="choice">
                <input type="radio" name="overlay" value={o} checked={s.overlay === o} onChange={() => st.setOverlay(o)} />
                {overlayLabel(t, o, cam)}
              </label>
            ))}
            {camDiffers(photo, s.settings.cam) && <CamDiffers photo={photo} cam={s.settings.cam} />}
            {missing && <DetailsStatus photo={photo} />}
            <ColourBar />
            <label className="slider">
              {t('viewer.opacity')}
              <input type="range" min={0} max={1} step={0.05} value={s.opacity} onChange={(e) => st.setOpacity(Number(e.currentTarget.value))} />
              <output>{Math.round(s.opacity * 100)}%</output>
            </label>
          </fieldset>
        )}

        {!refused && (
          <fieldset>
            <legend>{t('viewer.labels')}</legend>
            <label className="choice">
              <input type="checkbox" checked={s.showOutlines} onChange={(e) => st.setShowOutlines(e.currentTarget.checked)} />
              {t('viewer.outlines')}
            </label>
            <ul className="legend">
              {items.map((it) => (
                <li key={it.id}>
                  <label className="choice">
                    <input type="checkbox" checked={s.labelsVisible[it.id]} onChange={() => st.toggleLabel(it.id)} />
                    <svg width="40" height="12" aria-hidden="true">
                      <line x1="2" y1="6" x2="38" y2="6" stroke="#000" strokeWidth="5" />
                      <line x1="2" y1="6" x2="38" y2="6" stroke={it.colour} strokeWidth="3" strokeDasharray={dashArray(it.id)} />
                    </svg>
                    {it.name}
                    {r?.positive[it.id] ? <span className="badge">{t('result.positive')}</span> : null}
                  </label>
                </li>
              ))}
            </ul>
          </fieldset>
        )}

        <fieldset>
          <legend>{t('viewer.image')}</legend>
          <label className="choice">
            <input type="radio" name="imgview" checked={!s.showPreprocessed} onChange={() => st.setShowPreprocessed(false)} />
            {t('viewer.original')}
          </label>
          <label className="choice">
            <input type="radio" name="imgview" checked={s.showPreprocessed} disabled={!photo.preprocessed} onChange={() => st.setShowPreprocessed(true)} />
            {t('viewer.preprocessed')}
          </label>
        </fieldset>
      </div>

      {r && (r.summary !== 'ungradable' || r.forced) && (
        <details className="findings">
          <summary>
            {t('result.outlines')} ({outlines.length})
          </summary>
          {outlines.length === 0 ? (
            <p className="muted">{t('result.noOutlines')}</p>
          ) : (
            <ul>
              {outlines.slice(0, 50).map((o, i) => {
                const l = labels.find((x) => x.id === o.label);
                return (
                  <li key={i}>
                    <button type="button" className="link" onFocus={() => setFocused(o)} onBlur={() => setFocused(null)} onMouseEnter={() => setFocused(o)} onMouseLeave={() => setFocused(null)}>
                      {t('result.outlineItem', { name: l ? `${l.name} — ${l.plainName}` : o.label, score: o.score.toFixed(2) })}
                    </button>
                  </li>
                );
              })}
            </ul>
          )}
        </details>
      )}
    </section>
  );
}
