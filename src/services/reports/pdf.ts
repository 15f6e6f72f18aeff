/**
 * The clinician report as a PDF (jsPDF, bundled: no network). jsPDF's built-in
 * Helvetica covers Latin-1 only, so the clinician PDF is written in English or Spanish;
 * text outside Latin-1 (a patient id in Chinese script) is drawn as an image of the text
 * instead of being mangled. Chinese readers get the print view / HTML patient sheet.
 */
import { jsPDF } from 'jspdf';
import type { LabelId } from '../../core/types';
import { effectivePositive, effectiveSummary, recordCam, suggestedAction, type FullRecord } from '../records/types';
import { annotatedPhotoDataUrl } from './image';
import { qualityReasons } from '../../i18n';

export type Translate = (key: string, o?: Record<string, unknown>) => string;

const LATIN1 = /^[\u0000-\u00ff\u2013\u2014\u2018\u2019\u201c\u201d\u2022\u2026]*$/;
const pct = (v: number | undefined) => (v === undefined ? '—' : `${Math.round(v * 100)}%`);

/** Languages whose text jsPDF's standard fonts can write. */
export const PDF_TEXT_LANGUAGES = ['en', 'es'];

function textImage(text: string, px: number): { url: string; w: number; h: number } {
  const c = document.createElement('canvas');
  const ctx = c.getContext('2d')!;
  const font = `${px * 4}px system-ui, "Noto Sans CJK SC", "Noto Sans SC", sans-serif`;
  ctx.font = font;
  c.width = Math.ceil(ctx.measureText(text).width) + 4;
  c.height = Math.ceil(px * 5);
  ctx.font = font;
  ctx.fillStyle = '#000';
  ctx.textBaseline = 'middle';
  ctx.fillText(text, 2, c.height / 2);
  return { url: c.toDataURL('image/png'), w: c.width / 4, h: c.height / 4 };
}

/** Builds the clinician report; returns the PDF bytes as a Blob. */
export async function clinicianReportPdf(full: FullRecord, t: Translate, now = new Date()): Promise<Blob> {
  const { record: r } = full;
  const a = r.analysis;
  const doc = new jsPDF({ unit: 'mm', format: 'a4', compress: false });
  doc.setProperties({ title: `FundusLens report ${r.patientId} ${r.eye} ${r.captureDate}`, subject: t('report.disclaimer'), creator: 'FundusLens' });
  const W = 210;
  const M = 15;
  let y = M;
  // a long review comment or many quality reasons must not run off the page
  const ensure = (h: number) => {
    if (y + h > 282) {
      doc.addPage();
      y = M;
    }
  };
  const text = (s: string, x: number, size = 10, style: 'normal' | 'bold' = 'normal') => {
    ensure(size * 0.3528);
    doc.setFont('helvetica', style);
    doc.setFontSize(size);
    if (LATIN1.test(s)) doc.text(s, x, y);
    else {
      const img = textImage(s, size * 0.3528);
      doc.addImage(img.url, 'PNG', x, y - img.h * 0.75, img.w, img.h);
    }
  };
  const line = (label: string, value: string) => {
    text(label, M, 10, 'bold');
    text(value, M + 42, 10);
    y += 5.5;
  };

  text(t('report.title'), M, 16, 'bold');
  y += 7;
  doc.setTextColor(160, 0, 0);
  text(t('report.disclaimer'), M, 11, 'bold');
  doc.setTextColor(0, 0, 0);
  y += 8;
  line(t('records.fields.patientId'), r.patientId);
  if (r.dateOfBirth) line(t('records.fields.dateOfBirth'), r.dateOfBirth);
  line(t('records.fields.eye'), t(`records.eye.${r.eye}`));
  line(t('records.fields.captureDate'), r.captureDate);
  if (r.camera) line(t('records.fields.camera'), r.camera);
  line(t('report.recordId'), r.id);
  y += 2;

  if (!a) {
    text(t('records.result.not-analysed'), M, 11, 'bold');
    y += 8;
  } else {
    const q = a.quality;
    line(t('report.quality'), `${t(q.gradable ? 'report.gradable' : 'report.ungradable')} (${q.score.toFixed(2)})${a.forced ? ` — ${t('report.forced')}` : ''}`);
    for (const reason of qualityReasons(t, q).slice(0, 4)) {
      text(`• ${reason}`, M + 42, 9);
      y += 4.5;
    }
    y += 2;
    // per-label table
    const cols = [M, M + 62, M + 92, M + 120, M + 148];
    const eff = effectivePositive(r);
    doc.setDrawColor(180);
    [t('report.table.label'), t('report.table.probability'), t('report.table.threshold'), t('report.table.model'), t('report.table.final')].forEach((h, i) => text(h, cols[i], 9, 'bold'));
    y += 2;
    doc.line(M, y, W - M, y);
    y += 4.5;
    for (const l of a.labels) {
      const id = l.id as LabelId;
      text(`${l.name} (${l.plainName})`.slice(0, 44), cols[0], 9);
      text(pct(a.probabilities[id]), cols[1], 9);
      text(pct(l.threshold), cols[2], 9);
      text(a.positive[id] ? t('report.positive') : t('report.negative'), cols[3], 9, a.positive[id] ? 'bold' : 'normal');
      const overridden = r.review?.overrides[id] !== undefined && r.review.overrides[id] !== a.positive[id];
      text(`${eff[id] ? t('report.positive') : t('report.negative')}${overridden ? ' *' : ''}`, cols[4], 9, eff[id] ? 'bold' : 'normal');
      y += 5;
    }
    if (r.review && Object.keys(r.review.overrides).length) {
      text(t('report.overrideNote'), M, 8);
      y += 4;
    }
    y += 2;
  }

  // the photo with outlines and legend
  try {
    const url = await annotatedPhotoDataUrl(full.photo, a, { maxSide: 1200, legend: true });
    const props = doc.getImageProperties(url);
    const maxW = W - 2 * M;
    const maxH = 95;
    const k = Math.min(maxW / props.width, maxH / props.height);
    ensure(props.height * k + 4);
    doc.addImage(url, 'JPEG', M, y, props.width * k, props.height * k);
    y += props.height * k + 4;
  } catch {
    text(t('report.noPhoto'), M, 9);
    y += 6;
  }
  if (a) {
    const legend = a.labels.filter((l) => l.id !== 'healthy' && a.outlines.some((o) => o.label === l.id));
    if (legend.length) {
      text(t('report.legend'), M, 9, 'bold');
      let x = M + 22;
      for (const l of legend) {
        const hex = (l.colour ?? '#888888').replace('#', '');
        doc.setFillColor(parseInt(hex.slice(0, 2), 16) || 0, parseInt(hex.slice(2, 4), 16) || 0, parseInt(hex.slice(4, 6), 16) || 0);
        doc.rect(x, y - 2.5, 6, 2.5, 'F');
        text(l.name, x + 8, 9);
        x += 12 + doc.getTextWidth(l.name);
      }
      y += 6;
    }
  }

  const s = effectiveSummary(r);
  text(t('report.summary'), M, 11, 'bold');
  y += 5.5;
  const lesions = a ? a.labels.filter((l) => l.id !== 'healthy' && effectivePositive(r)[l.id]).map((l) => l.name).join(', ') : '';
  doc.setFont('helvetica', 'normal');
  doc.setFontSize(10);
  const summary = `${t(`records.result.${s}`)}${lesions ? `: ${lesions}` : ''}`;
  for (const part of doc.splitTextToSize(summary, W - 2 * M) as string[]) {
    text(part, M, 10);
    y += 5;
  }
  text(`${t('report.action')}: ${t(`records.action.${suggestedAction(r)}`)}`, M, 11, 'bold');
  y += 7;
  if (r.review) {
    line(t('report.reviewedBy'), `${r.review.reviewer} (${r.review.reviewedAt.slice(0, 10)})`);
    if (r.review.comment) line(t('report.comment'), r.review.comment.slice(0, 90));
  } else {
    line(t('report.reviewedBy'), t('report.notReviewed'));
  }
  if (r.notes) line(t('records.fields.notes'), r.notes.slice(0, 90));
  if (a) {
    line(t('report.model'), `${a.modelName} ${a.modelVersion} (${a.backend})`);
    line(t('report.camMethod'), t(`viewer.cam.${recordCam(a)}`));
    line(t('report.thresholds'), a.labels.map((l) => `${l.name} ${l.threshold.toFixed(2)}`).join(', '));
  }
  // footer on every page
  const pages = doc.getNumberOfPages();
  for (let p = 1; p <= pages; p++) {
    doc.setPage(p);
    doc.setFont('helvetica', 'normal');
    doc.setFontSize(8);
    doc.setTextColor(90);
    doc.text(`${t('report.disclaimer')} — FundusLens — ${t('report.generated', { date: now.toISOString().slice(0, 16).replace('T', ' ') })}`, M, 290);
    doc.setTextColor(0);
  }
  return doc.output('blob');
}
