import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { appStore, useApp } from '../store';
import { fetchSampleBlob, type Sample } from '../services/samples';
import { getRunner } from '../services/instance';
import { drawLegend, legendItems } from '../render/legend';
import { PhotoCanvas } from './PhotoCanvas';
import { getSamples } from './OpenPhotos';
import { labelsOf, summaryText } from './ResultPanel';

const SHOW_PHOTO_MS = 1500;
const REVEAL_MS = 1200;
const HOLD_MS = 5000;

const sleep = (ms: number, alive: () => boolean) =>
  new Promise<void>((res) => {
    const t0 = performance.now();
    const tick = () => (!alive() || performance.now() - t0 >= ms ? res() : setTimeout(tick, 50));
    tick();
  });

/** Resolve with the photo id once it is analysed (or failed). */
async function analysedSample(s: Sample, alive: () => boolean): Promise<string | null> {
  const st = appStore.getState();
  let p = st.photos.find((x) => x.source === 'sample' && x.name === s.title && x.status !== 'error');
  if (!p) {
    const blob = await fetchSampleBlob(s);
    const [id] = appStore.getState().addPhotos([{ name: s.title, file: blob, source: 'sample' }]);
    getRunner();
    p = appStore.getState().photos.find((x) => x.id === id)!;
  }
  const id = p.id;
  appStore.getState().selectPhoto(id);
  while (alive()) {
    const cur = appStore.getState().photos.find((x) => x.id === id);
    if (!cur || cur.status === 'error' || cur.status === 'cancelled') return null;
    if (cur.status === 'done') {
      // a sample shown in an earlier round may have been shelved since (store shelveIdle): its photo comes back first
      if (cur.shelved) await getRunner().restore(id);
      // the demo shows the combined map (eq. 4): computed on demand, like the viewer's
      if (cur.result?.summary === 'dr-signs') await getRunner().details(id);
      return id;
    }
    await sleep(100, alive);
  }
  return null;
}

/** Kiosk: cycles through the bundled samples hands-free; any key or touch stops it. */
export function DemoMode() {
  const { t } = useTranslation();
  const root = useRef<HTMLDivElement>(null);
  const legend = useRef<HTMLCanvasElement>(null);
  const [samples, setSamples] = useState<Sample[] | null>(null);
  const [photoId, setPhotoId] = useState<string | null>(null);
  const [phase, setPhase] = useState<'loading' | 'photo' | 'reveal'>('loading');
  const [reveal, setReveal] = useState(0);
  const [title, setTitle] = useState('');
  const photo = useApp((s) => s.photos.find((p) => p.id === photoId));
  const labels = useApp(labelsOf);
  const colormap = useApp((s) => s.settings.colormap);

  useEffect(() => {
    void getSamples().then(setSamples);
  }, []);

  // stop on any key or touch
  useEffect(() => {
    const stop = () => {
      if (document.fullscreenElement) void document.exitFullscreen().catch(() => {});
      appStore.getState().setRoute('analyse');
      location.hash = '#/';
    };
    const t0 = performance.now();
    const onInput = () => {
      if (performance.now() - t0 > 300) stop(); // ignore the click that opened the demo
    };
    window.addEventListener('keydown', onInput);
    window.addEventListener('pointerdown', onInput);
    window.addEventListener('touchstart', onInput);
    root.current?.requestFullscreen?.().catch(() => {});
    return () => {
      window.removeEventListener('keydown', onInput);
      window.removeEventListener('pointerdown', onInput);
      window.removeEventListener('touchstart', onInput);
    };
  }, []);

  // the cycle
  useEffect(() => {
    if (!samples?.length) return;
    let live = true;
    const alive = () => live;
    void (async () => {
      for (let i = 0; live; i = (i + 1) % samples.length) {
        setPhase('loading');
        setTitle(samples[i].title);
        let id: string | null = null;
        try {
          id = await analysedSample(samples[i], alive);
        } catch {
          id = null;
        }
        if (!live) break;
        if (!id) continue;
        setPhotoId(id);
        setReveal(0);
        setPhase('photo');
        await sleep(SHOW_PHOTO_MS, alive);
        setPhase('reveal');
        const t0 = performance.now();
        while (live && performance.now() - t0 < REVEAL_MS) {
          setReveal((performance.now() - t0) / REVEAL_MS);
          await new Promise((r) => requestAnimationFrame(() => r(null)));
        }
        setReveal(1);
        await sleep(HOLD_MS, alive);
      }
    })();
    return () => {
      live = false;
    };
  }, [samples]);

  useEffect(() => {
    const c = legend.current;
    const ctx = c?.getContext('2d');
    if (c && ctx) {
      ctx.clearRect(0, 0, c.width, c.height);
      drawLegend(ctx, legendItems(labels), 0, 0);
    }
  }, [labels, phase]);

  const r = photo?.result;
  return (
    <div ref={root} className="demo" data-testid="demo" data-phase={phase}>
      {samples && samples.length === 0 && <p className="demo-msg">{t('demo.noSamples')}</p>}
      {photo && photo.display && (
        <PhotoCanvas
          photo={photo}
          labels={labels}
          overlay={r?.summary === 'dr-signs' ? 'combined' : 'none'}
          labelsVisible={{ ma: true, hm: true, hex: true, cws: true }}
          showOutlines={phase === 'reveal'}
          opacity={0.6 * reveal}
          showPreprocessed={false}
          colormap={colormap}
          view={null}
          interactive={false}
          className="demo-canvas"
        />
      )}
      <div className="demo-caption" aria-live="polite">
        {phase === 'loading' ? (
          <p>{t('demo.analysing', { title })}</p>
        ) : (
          <>
            <p className="demo-title">{title}</p>
            {phase === 'reveal' && r && <p className={`demo-verdict summary-${r.summary}`}>{summaryText(t, r, labels)}</p>}
          </>
        )}
        <p className="small">
          {t('app.disclaimer')} · {t('demo.stopHint')}
        </p>
      </div>
      <canvas ref={legend} className="demo-legend" width={200} height={110} style={{ opacity: phase === 'reveal' ? 1 : 0 }} aria-hidden="true" />
    </div>
  );
}
