import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { appStore } from '../store';
import { fetchSampleBlob, loadSamples, type Sample } from '../services/samples';
import { appBase, getRunner } from '../services/instance';

export function addFiles(files: Iterable<File>, source: 'file' | 'sample' = 'file'): string[] {
  const list = [...files].map((f) => ({ name: f.name || 'photo', file: f as Blob, source }));
  const ids = appStore.getState().addPhotos(list);
  if (ids.length) {
    getRunner();
    // On a phone the result sits below the samples list: bring it into view.
    if (typeof window !== 'undefined' && window.matchMedia?.('(max-width: 759px)').matches) {
      setTimeout(() => document.querySelector('.col-right')?.scrollIntoView({ behavior: 'smooth', block: 'start' }), 50);
    }
  }
  return ids;
}

let pasteCount = 0;

/** File picker, drag and drop (on the whole page) and paste. */
export function OpenPhotos() {
  const { t } = useTranslation();
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);

  // Start the analysis worker and load the model as soon as the analyse page is up: the
  // first photo then waits for its own analysis only, not for the worker, tfjs and the
  // weights (the worker fetches and compiles off the main thread).
  useEffect(() => {
    getRunner().preload();
  }, []);

  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const files = [...(e.clipboardData?.files ?? [])];
      if (!files.length) return;
      e.preventDefault();
      addFiles(files.map((f) => (f.name && f.name !== 'image.png' ? f : new File([f], t('open.pasted', { n: ++pasteCount }), { type: f.type }))));
    };
    let depth = 0;
    const hasFiles = (e: DragEvent) => [...(e.dataTransfer?.types ?? [])].includes('Files');
    const onEnter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth++;
      setDragging(true);
    };
    const onLeave = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth = Math.max(0, depth - 1);
      if (!depth) setDragging(false);
    };
    const onOver = (e: DragEvent) => {
      if (hasFiles(e)) e.preventDefault();
    };
    const onDrop = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      setDragging(false);
      addFiles(e.dataTransfer?.files ?? []);
    };
    document.addEventListener('paste', onPaste);
    window.addEventListener('dragenter', onEnter);
    window.addEventListener('dragleave', onLeave);
    window.addEventListener('dragover', onOver);
    window.addEventListener('drop', onDrop);
    return () => {
      document.removeEventListener('paste', onPaste);
      window.removeEventListener('dragenter', onEnter);
      window.removeEventListener('dragleave', onLeave);
      window.removeEventListener('dragover', onOver);
      window.removeEventListener('drop', onDrop);
    };
  }, [t]);

  return (
    <section className="panel open-photos" aria-labelledby="open-heading">
      <h2 id="open-heading">{t('open.heading')}</h2>
      <div className={`dropzone${dragging ? ' dragging' : ''}`}>
        <p>{dragging ? t('open.dropActive') : t('open.hint')}</p>
        <input
          ref={input}
          id="file-input"
          className="visually-hidden"
          aria-label={t('open.button')}
          tabIndex={-1} // the visible button below is the keyboard path; this input only holds the files
          type="file"
          accept="image/*"
          multiple
          onChange={(e) => {
            addFiles(e.currentTarget.files ?? []);
            e.currentTarget.value = '';
          }}
        />
        <button type="button" className="primary" onClick={() => input.current?.click()}>
          {t('open.button')}
        </button>
      </div>
      <Samples />
    </section>
  );
}

let samplesPromise: Promise<Sample[]> | null = null;
export function getSamples(): Promise<Sample[]> {
  samplesPromise ??= loadSamples(appBase());
  return samplesPromise;
}

function Samples() {
  const { t } = useTranslation();
  const [samples, setSamples] = useState<Sample[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    void getSamples().then((s) => live && setSamples(s));
    return () => {
      live = false;
    };
  }, []);
  const open = async (s: Sample) => {
    try {
      setError(null);
      const blob = await fetchSampleBlob(s);
      addFiles([new File([blob], s.title, { type: blob.type || 'image/jpeg' })], 'sample');
    } catch (e) {
      setError(String((e as Error).message ?? e));
    }
  };
  return (
    <div className="samples">
      <h3>{t('open.samples')}</h3>
      {samples === null ? (
        <p className="muted">{t('open.samplesLoading')}</p>
      ) : samples.length === 0 ? (
        <p className="muted">{t('open.samplesMissing')}</p>
      ) : (
        <ul className="sample-list">
          {samples.map((s) => (
            <li key={s.file}>
              <button type="button" className="sample" onClick={() => void open(s)} aria-label={t('open.sampleAria', { title: s.title })} title={s.description}>
                <img src={s.thumbUrl} alt="" loading="lazy" width={56} height={56} />
                <span>{s.title}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </div>
  );
}
