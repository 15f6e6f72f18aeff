import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import i18next from 'i18next';
import { downloadBlob, exportToFile, type FullRecord } from '../../services/records';
import { safeName } from '../../services/records/export';

/** PDF download, print (print stylesheet), export of one record. */
export function ReportActions({ full }: { full: FullRecord }) {
  const { t, i18n } = useTranslation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function pdf() {
    setBusy(true);
    setError(null);
    try {
      // jsPDF's fonts are Latin-only: a Chinese UI gets the English clinician PDF (print view is in Chinese)
      // jsPDF is loaded on first use: it is a large library most visits never need
      const { clinicianReportPdf, PDF_TEXT_LANGUAGES } = await import('../../services/reports/pdf');
      const lng = PDF_TEXT_LANGUAGES.includes(i18n.language) ? i18n.language : 'en';
      const blob = await clinicianReportPdf(full, i18next.getFixedT(lng));
      const r = full.record;
      downloadBlob(blob, `funduslens-report-${safeName(r.patientId)}-${r.eye}-${r.captureDate}.pdf`);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="report-actions no-print">
      <button type="button" onClick={() => void pdf()} disabled={busy}>
        {busy ? t('report.making') : t('report.pdf')}
      </button>
      <button type="button" onClick={() => window.print()}>
        {t('report.print')}
      </button>
      <a className="button" href={`#/patient/${full.record.id}`}>
        {t('report.patientView')}
      </a>
      <button type="button" onClick={() => void exportToFile([full])}>
        {t('report.exportRecord')}
      </button>
      {error && (
        <p role="alert" className="error-text">
          {error}
        </p>
      )}
    </div>
  );
}
