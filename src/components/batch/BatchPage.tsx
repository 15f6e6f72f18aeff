import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { LabelSpec } from '../../core/types';
import { appStore, useApp, type PhotoItem } from '../../store';
import { getRunner } from '../../services/instance';
import { buildRecord, currentModel, downloadBlob, saveRecord, today, type Eye } from '../../services/records';
import { toCsv, type CsvCell } from '../../services/csv';
import '../report/report.css';
import { TableScroll } from '../TableScroll';

type SortKey = 'name' | 'status' | 'verdict' | 'quality' | 'max';
const IMAGE_EXT = /\.(jpe?g|png|webp|bmp|gif|tiff?)$/i;
const pct = (v: number) => `${Math.round(v * 100)}%`;

function maxLesion(p: PhotoItem): number {
  const r = p.result;
  return r ? Math.max(r.probabilities.ma, r.probabilities.hm, r.probabilities.hex, r.probabilities.cws) : -1;
}
function verdictRank(p: PhotoItem): number {
  const s = p.result?.summary;
  return s === 'dr-signs' ? 0 : s === 'ungradable' ? 1 : s === 'healthy' ? 2 : 3;
}

export function batchCsv(photos: readonly PhotoItem[], labels: readonly LabelSpec[]): string {
  const ids = labels.map((l) => l.id);
  const rows: CsvCell[][] = [['file', 'status', 'result', 'gradable', 'quality_score', 'analysed_anyway', ...ids.flatMap((l) => [`${l}_probability`, `${l}_positive`]), 'model', 'error']];
  for (const p of photos) {
    const r = p.result;
    rows.push([
      p.name, p.status, r?.summary, r?.quality.gradable, r ? Math.round(r.quality.score * 1000) / 1000 : undefined, r?.forced,
      ...ids.flatMap((l) => [r ? Math.round(r.probabilities[l] * 1000) / 1000 : undefined, r?.positive[l]]),
      r?.model, p.error?.message,
    ]);
  }
  return toCsv(rows);
}

function Thumb({ file, alt }: { file: Blob; alt: string }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    const u = URL.createObjectURL(file);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [file]);
  return url ? <img className="thumb" src={url} alt={alt} width={56} height={56} loading="lazy" decoding="async" /> : null;
}

/** Batch screening: a folder or many files -> the shared queue -> a sortable results table. */
export function BatchPage() {
  const { t } = useTranslation();
  const batch = useApp((s) => s.records.batch);
  const allPhotos = useApp((s) => s.photos);
  const saved = useApp((s) => s.records.savedPhotos);
  const [sort, setSort] = useState<{ key: SortKey; dir: 1 | -1 }>({ key: 'verdict', dir: 1 });
  // no default eye: one unnoticed default would file a whole batch of left eyes as right ones
  const [eye, setEye] = useState<Eye | ''>('');
  const [date, setDate] = useState(today());
  const [msg, setMsg] = useState<string | null>(null);
  const [skipped, setSkipped] = useState<string | null>(null);
  const labels = currentModel().labels;
  const folderRef = useRef<HTMLInputElement | null>(null);
  const filesRef = useRef<HTMLInputElement | null>(null);

  const photos = useMemo(() => {
    const set = new Set(batch);
    return allPhotos.filter((p) => set.has(p.id));
  }, [batch, allPhotos]);
  const sorted = useMemo(() => {
    const k = sort.key;
    const val = (p: PhotoItem): string | number => (k === 'name' ? p.name : k === 'status' ? p.status : k === 'verdict' ? verdictRank(p) : k === 'quality' ? (p.result?.quality.score ?? -1) : maxLesion(p));
    return [...photos].sort((a, b) => {
      const x = val(a);
      const y = val(b);
      return (x < y ? -1 : x > y ? 1 : a.name.localeCompare(b.name)) * sort.dir;
    });
  }, [photos, sort]);
  const done = photos.filter((p) => p.status === 'done' || p.status === 'error' || p.status === 'cancelled').length;

  function add(input: HTMLInputElement) {
    const files = Array.from(input.files ?? []);
    // the same folder or files chosen again (e.g. after "Clear the batch") must fire change again
    input.value = '';
    if (!files.length) return;
    const pathOf = (f: File) => (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name;
    const isImage = (f: File) => IMAGE_EXT.test(f.name) || f.type.startsWith('image/');
    // a folder often holds other files too (exports, notes, .DS_Store): say which were left out
    const left = files.filter((f) => !isImage(f)).map(pathOf);
    setSkipped(left.length ? t('batch.skipped', { count: left.length, names: left.slice(0, 3).join(', ') + (left.length > 3 ? ', …' : '') }) : null);
    const list = files
      .filter(isImage)
      .sort((a, b) => pathOf(a).localeCompare(pathOf(b)))
      .map((f) => ({ name: pathOf(f), file: f as Blob }));
    const ids = appStore.getState().addPhotos(list);
    appStore.getState().setBatch([...appStore.getState().records.batch, ...ids]);
    if (ids.length) getRunner();
  }
  function cancel() {
    const s = appStore.getState();
    for (const p of photos) {
      if (p.status === 'queued') s.updatePhoto(p.id, { status: 'cancelled' });
      else if (p.status === 'analysing' || p.status === 'decoding') getRunner().cancel(p.id);
    }
  }
  function clear() {
    cancel();
    const s = appStore.getState();
    for (const id of batch) s.removePhoto(id);
    s.setBatch([]);
    setSkipped(null);
  }
  async function saveAll() {
    setMsg(null);
    if (!eye) return; // the button is disabled until an eye is chosen
    const { labels: ls, model } = currentModel();
    let n = 0;
    try {
      for (const p of photos) {
        if (p.status !== 'done' || saved[p.id]) continue;
        const stem = p.name.split('/').pop()!.replace(/\.[^.]+$/, '');
        const d = p.display;
        const full = await buildRecord({ patientId: stem, eye, captureDate: date }, { file: p.file, name: p.name, width: d?.originalWidth ?? 0, height: d?.originalHeight ?? 0 }, p.result, ls, model);
        const rec = await saveRecord(full);
        appStore.getState().markPhotoSaved(p.id, rec.id);
        n++;
      }
      setMsg(t('batch.saved', { count: n }));
    } catch (e) {
      setMsg((e as Error).message);
    }
  }
  const header = (key: SortKey, label: string) => (
    <th scope="col" aria-sort={sort.key === key ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}>
      <button type="button" onClick={() => setSort((s) => ({ key, dir: s.key === key ? (-s.dir as 1 | -1) : 1 }))} aria-label={t('batch.sortBy', { column: label })}>
        {label} {sort.key === key ? (sort.dir === 1 ? '▲' : '▼') : ''}
      </button>
    </th>
  );
  return (
    <section className="batch-page" aria-labelledby="batch-h">
      <h2 id="batch-h">{t('batch.heading')}</h2>
      <p>{t('batch.intro')}</p>
      <div className="records-actions">
        {/* Buttons, not labels: a label around a hidden input is neither focusable nor styled as a control */}
        <button type="button" onClick={() => folderRef.current?.click()}>
          {t('batch.folder')}
        </button>
        <input
          ref={(el) => {
            folderRef.current = el;
            // React has no typed prop for it; it must be an attribute
            el?.setAttribute('webkitdirectory', '');
          }}
          type="file"
          hidden
          multiple
          data-testid="batch-folder"
          onChange={(e) => add(e.currentTarget)}
        />
        <button type="button" onClick={() => filesRef.current?.click()}>
          {t('batch.files')}
        </button>
        <input ref={filesRef} type="file" hidden multiple accept="image/*" data-testid="batch-files" onChange={(e) => add(e.currentTarget)} />
        <button type="button" onClick={cancel} disabled={done === photos.length}>
          {t('batch.cancel')}
        </button>
        <button type="button" onClick={clear} disabled={!photos.length}>
          {t('batch.clear')}
        </button>
      </div>
      {skipped && (
        <p role="status" className="muted" data-testid="batch-skipped">
          {skipped}
        </p>
      )}
      {photos.length > 0 && (
        <p role="status" data-testid="batch-progress">
          <progress max={photos.length} value={done} /> {t('batch.progress', { done, total: photos.length })}
        </p>
      )}
      {!photos.length ? (
        <p className="muted">{t('batch.empty')}</p>
      ) : (
        <TableScroll label={t('batch.table')}>
          <table className="batch-table" data-testid="batch-table">
            <caption className="visually-hidden">{t('batch.table')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('batch.col.photo')}</th>
                {header('name', t('batch.col.name'))}
                {header('status', t('batch.col.status'))}
                {header('verdict', t('batch.col.verdict'))}
                <th scope="col">{t('batch.col.flags')}</th>
                {header('quality', t('batch.col.quality'))}
                {header('max', t('batch.col.max'))}
              </tr>
            </thead>
            <tbody>
              {sorted.map((p) => {
                const r = p.result;
                const flags = r ? labels.filter((l) => l.id !== 'healthy' && r.positive[l.id]).map((l) => l.name) : [];
                return (
                  <tr key={p.id} data-testid="batch-row">
                    <td>
                      <Thumb file={p.file} alt="" />
                    </td>
                    <td>
                      <button
                        type="button"
                        className="linklike"
                        aria-label={t('batch.open', { name: p.name })}
                        onClick={() => {
                          appStore.getState().selectPhoto(p.id);
                          location.hash = '#/';
                        }}
                      >
                        {p.name}
                      </button>
                    </td>
                    <td>{t(`queue.status.${p.status}`)}</td>
                    <td data-testid="batch-verdict">{r ? t(`records.result.${r.summary}`) : p.error ? p.error.message : '—'}</td>
                    <td>{flags.join(', ') || '—'}</td>
                    <td>{r ? r.quality.score.toFixed(2) : '—'}</td>
                    <td>{r ? pct(maxLesion(p)) : '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableScroll>
      )}
      {photos.length > 0 && (
        <div className="records-actions">
          <button type="button" onClick={() => downloadBlob(new Blob([batchCsv(sorted, labels)], { type: 'text/csv;charset=utf-8' }), `funduslens-batch-${today()}.csv`)}>
            {t('batch.csv')}
          </button>
          <fieldset className="eye">
            <legend className="small">{t('batch.saveHint')}</legend>
            {(['OD', 'OS'] as const).map((e) => (
              <label key={e}>
                <input type="radio" name="batch-eye" checked={eye === e} onChange={() => setEye(e)} /> {t(`records.eye.${e}`)}
              </label>
            ))}{' '}
            <label>
              {t('records.fields.captureDate')} <input type="date" value={date} onChange={(e) => setDate(e.currentTarget.value)} />
            </label>
          </fieldset>
          <button type="button" onClick={() => void saveAll()} disabled={!eye || !photos.some((p) => p.status === 'done' && !saved[p.id])} aria-describedby={eye ? undefined : 'batch-eye-first'}>
            {t('batch.save')}
          </button>
          {!eye && (
            <span id="batch-eye-first" className="small muted">
              {t('batch.eyeFirst')}
            </span>
          )}
          {msg && <p role="status">{msg}</p>}
        </div>
      )}
    </section>
  );
}
