import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import i18next from 'i18next';
import { downloadBlob } from '../../services/records';
import { safeName } from '../../services/records/export';
import { patientHtml, patientSheet } from '../../services/reports/patient';
import { LanguageOptions } from '../records/LanguageSwitch';
import { AnnotatedPhoto } from '../report/AnnotatedPhoto';
import { RecordPending, useFullRecord, useHashId } from '../report/RecordView';
import '../report/report.css';

function canShareFiles(): boolean {
  try {
    return typeof navigator.share === 'function' && typeof navigator.canShare === 'function' && navigator.canShare({ files: [new File(['x'], 'x.html', { type: 'text/html' })] });
  } catch {
    return false;
  }
}

/** The patient's view: plain words, large type, the photo, what to do next — in the patient's language. */
export function PatientView() {
  const { t, i18n } = useTranslation();
  const id = useHashId('#/patient/');
  const { full, error } = useFullRecord(id);
  const [lang, setLang] = useState<string>(i18n.language);
  const pt = useMemo(() => i18next.getFixedT(lang), [lang]);
  if (error || !full || full.record.id !== id) return <RecordPending error={error} />;
  const sh = patientSheet(full.record, pt, lang);
  const base = `funduslens-${safeName(full.record.patientId)}-${full.record.eye}-${full.record.captureDate}-${lang}`;
  return (
    <article className="patient-view" lang={lang} data-testid="patient-view" aria-labelledby="pv-h">
      <div className="no-print patient-tools" lang={i18n.language}>
        <label>
          {t('patient.language')}{' '}
          <select value={lang} onChange={(e) => setLang(e.currentTarget.value)} data-testid="patient-language">
            <LanguageOptions />
          </select>
        </label>
        <button type="button" onClick={() => window.print()}>
          {t('report.print')}
        </button>
        <button type="button" onClick={() => void patientHtml(full, pt, lang).then((h) => downloadBlob(new Blob([h], { type: 'text/html;charset=utf-8' }), `${base}.html`))}>
          {t('patient.saveHtml')}
        </button>
        <button type="button" onClick={() => void import('../../services/reports/patient-pdf').then(({ patientPdf }) => patientPdf(full, pt, lang)).then((b) => downloadBlob(b, `${base}.pdf`))}>
          {t('patient.savePdf')}
        </button>
        {canShareFiles() && (
          <button
            type="button"
            onClick={async () => {
              // the system share sheet (phones, tablets): the same self-contained HTML sheet, no server involved
              const file = new File([await patientHtml(full, pt, lang)], `${base}.html`, { type: 'text/html' });
              if (navigator.canShare?.({ files: [file] })) await navigator.share({ files: [file], title: sh.title }).catch(() => undefined);
            }}
          >
            {t('patient.share')}
          </button>
        )}
        <a href={`#/record/${full.record.id}`}>{t('patient.backToReport')}</a>
      </div>
      <h2 id="pv-h">{sh.title}</h2>
      <p>{sh.patientLine}</p>
      <p>{sh.intro}</p>
      <p className="patient-summary" data-testid="patient-summary">
        {sh.summary}
      </p>
      {sh.findings.length > 0 && (
        <ul className="patient-findings">
          {sh.findings.map((f) => (
            <li key={f}>{f}</li>
          ))}
        </ul>
      )}
      <AnnotatedPhoto photo={full.photo} analysis={full.record.analysis} alt={sh.photoAlt} names={sh.legendNames} maxSide={1000} />
      <h3>{sh.nextHeading}</h3>
      <p className="patient-next" data-testid="patient-next">
        {sh.next}
      </p>
      <p className="patient-disclaimer" role="note">
        {sh.disclaimer}
      </p>
    </article>
  );
}
