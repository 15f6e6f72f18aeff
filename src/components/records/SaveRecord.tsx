import { useEffect, useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { appStore, useApp, type PhotoItem } from '../../store';
import { buildRecord, currentModel, saveRecord, today, validateExamForm, type ExamFormDraft } from '../../services/records';
import { UnsavedRecords } from './UnsavedRecords';

// no eye until the user picks one (services/records ExamFormDraft)
const EMPTY = (): ExamFormDraft => ({ patientId: '', eye: '', captureDate: today(), dateOfBirth: '', camera: '', notes: '' });

/** "Save as record" under the result: patient id, eye, dates, camera, notes. */
export function SaveRecord({ photo }: { photo: PhotoItem }) {
  const { t } = useTranslation();
  const uid = useId();
  const savedId = useApp((s) => s.records.savedPhotos[photo.id]);
  const [form, setForm] = useState<ExamFormDraft>(EMPTY);
  const [invalid, setInvalid] = useState<string | null>(null);
  const [error, setError] = useState<{ code: string; message: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const [open, setOpen] = useState(false);

  useEffect(() => {
    setError(null);
    setInvalid(null);
  }, [photo.id]);
  // the form's edits die with it: they no longer hold back an app update
  useEffect(() => () => appStore.getState().setRecordsDirty(false), []);

  const edit = (patch: Partial<ExamFormDraft>) => {
    setForm((f) => ({ ...f, ...patch }));
    appStore.getState().setRecordsDirty(true);
  };
  const ready = photo.status === 'done' || photo.status === 'error' || photo.status === 'cancelled';

  async function submit(e: FormEvent) {
    e.preventDefault();
    const bad = validateExamForm(form);
    setInvalid(bad);
    const { eye } = form;
    if (bad || !eye) return; // validateExamForm refuses a missing eye; the test on `eye` tells the types so
    setSaving(true);
    setError(null);
    const { labels, model } = currentModel();
    const d = photo.display;
    const full = await buildRecord({ ...form, eye }, { file: photo.file, name: photo.name, width: d?.originalWidth ?? d?.width ?? 0, height: d?.originalHeight ?? d?.height ?? 0 }, photo.result, labels, model);
    try {
      const rec = await saveRecord(full);
      appStore.getState().markPhotoSaved(photo.id, rec.id);
      setOpen(false);
      setForm((f) => ({ ...EMPTY(), patientId: f.patientId, dateOfBirth: f.dateOfBirth, captureDate: f.captureDate, camera: f.camera, eye: f.eye === 'OD' ? 'OS' : 'OD' }));
      appStore.getState().setRecordsDirty(false);
    } catch (err) {
      const x = err as { code?: string; message?: string };
      setError({ code: x.code ?? 'storage-failed', message: x.message ?? String(err) });
      // the record is kept in memory (records.unsaved): the form is no longer the only copy
      appStore.getState().setRecordsDirty(false);
    } finally {
      setSaving(false);
    }
  }

  if (!ready) return null;
  if (savedId && !open)
    return (
      <section className="panel save-record" aria-labelledby={`${uid}-h`}>
        <h2 id={`${uid}-h`}>{t('records.save.heading')}</h2>
        <p role="status" data-testid="record-saved">
          {t('records.save.saved')} <a href={`#/record/${savedId}`}>{t('records.save.open')}</a>
        </p>
        <button type="button" onClick={() => setOpen(true)}>
          {t('records.save.another')}
        </button>
      </section>
    );

  const field = (name: keyof ExamFormDraft) => ({
    id: `${uid}-${name}`,
    'aria-invalid': invalid === name ? true : undefined,
    'aria-describedby': invalid === name ? `${uid}-err` : undefined,
  });
  return (
    <section className="panel save-record" aria-labelledby={`${uid}-h`}>
      <h2 id={`${uid}-h`}>{t('records.save.heading')}</h2>
      <form onSubmit={submit} noValidate>
        <label htmlFor={`${uid}-patientId`}>{t('records.fields.patientId')}</label>
        <input {...field('patientId')} value={form.patientId} onChange={(e) => edit({ patientId: e.currentTarget.value })} autoComplete="off" required />
        <p className="muted small">{t('records.fields.patientIdHint')}</p>
        <fieldset className="eye" aria-describedby={invalid === 'eye' ? `${uid}-err` : undefined}>
          <legend>{t('records.fields.eye')}</legend>
          {(['OD', 'OS'] as const).map((eye) => (
            <label key={eye}>
              <input type="radio" name={`${uid}-eye`} value={eye} checked={form.eye === eye} onChange={() => edit({ eye })} /> {t(`records.eye.${eye}`)}
            </label>
          ))}
        </fieldset>
        <label htmlFor={`${uid}-captureDate`}>{t('records.fields.captureDate')}</label>
        <input type="date" {...field('captureDate')} value={form.captureDate} onChange={(e) => edit({ captureDate: e.currentTarget.value })} required />
        <label htmlFor={`${uid}-dateOfBirth`}>{t('records.fields.dateOfBirth')}</label>
        <input type="date" {...field('dateOfBirth')} value={form.dateOfBirth ?? ''} onChange={(e) => edit({ dateOfBirth: e.currentTarget.value })} />
        <label htmlFor={`${uid}-camera`}>{t('records.fields.camera')}</label>
        <input {...field('camera')} value={form.camera ?? ''} onChange={(e) => edit({ camera: e.currentTarget.value })} />
        <label htmlFor={`${uid}-notes`}>{t('records.fields.notes')}</label>
        <textarea {...field('notes')} value={form.notes ?? ''} onChange={(e) => edit({ notes: e.currentTarget.value })} rows={2} />
        {invalid && (
          <p id={`${uid}-err`} role="alert" className="error-text">
            {t(`records.invalid.${invalid}`)}
          </p>
        )}
        {!photo.result && <p className="muted small">{t('records.save.noResult')}</p>}
        <button type="submit" disabled={saving}>
          {saving ? t('records.save.saving') : t('records.save.button')}
        </button>
      </form>
      {error && (
        <div role="alert" className="error-box" data-testid="save-error" data-code={error.code}>
          <p>{error.message}</p>
        </div>
      )}
      <UnsavedRecords />
    </section>
  );
}

