/**
 * The patient's sheet: plain language, large type, no jargon; the photo with outlines;
 * what to do next. Shareable as ONE self-contained HTML file (photo inline, styles
 * inline, no scripts) — readable in any language on any device — or as a PDF.
 */
import { jsPDF } from 'jspdf';
import type { LesionLabelId } from '../../core/types';
import { effectivePositive, effectiveSummary, suggestedAction, type ExamRecord, type FullRecord } from '../records/types';
import { annotatedPhotoDataUrl } from './image';
import type { Translate } from './pdf';

export interface PatientSheet {
  lang: string;
  title: string;
  intro: string;
  patientLine: string;
  summary: string;
  findings: string[];
  nextHeading: string;
  next: string;
  disclaimer: string;
  legendNames: Partial<Record<LesionLabelId, string>>;
  photoAlt: string;
}

/** Plain name of a label in the patient's language (metadata's plainName is English). */
export function plainName(t: Translate, id: string, fallback: string): string {
  return t(`patient.plain.${id}`, { defaultValue: fallback });
}

export function patientSheet(r: ExamRecord, t: Translate, lang: string): PatientSheet {
  const a = r.analysis;
  const s = effectiveSummary(r);
  const eff = effectivePositive(r);
  const findings = a ? a.labels.filter((l) => l.id !== 'healthy' && eff[l.id]).map((l) => plainName(t, l.id, l.plainName)) : [];
  const legendNames: Partial<Record<LesionLabelId, string>> = {};
  for (const l of a?.labels ?? []) if (l.id !== 'healthy') legendNames[l.id] = plainName(t, l.id, l.plainName);
  const eye = t(`patient.eye.${r.eye}`);
  return {
    lang,
    title: t('patient.title'),
    intro: t('patient.intro', { eye, date: r.captureDate }),
    patientLine: t('patient.patientLine', { patient: r.patientId }),
    summary: t(`patient.summary.${s}`),
    findings,
    nextHeading: t('patient.nextHeading'),
    next: t(`patient.next.${suggestedAction(r)}`),
    disclaimer: t('patient.disclaimer'),
    legendNames,
    photoAlt: t('patient.photoAlt', { eye }),
  };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A self-contained HTML file: no scripts, no external requests (the CSP of a viewer does not matter). */
export async function patientHtml(full: FullRecord, t: Translate, lang: string): Promise<string> {
  const sh = patientSheet(full.record, t, lang);
  let img = '';
  try {
    img = await annotatedPhotoDataUrl(full.photo, full.record.analysis, { maxSide: 1000, legend: true, names: sh.legendNames });
  } catch {
    img = '';
  }
  return `<!doctype html>
<html lang="${esc(lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>${esc(sh.title)} — ${esc(full.record.patientId)}</title>
<style>body{font:20px/1.6 system-ui,"Noto Sans CJK SC","Noto Sans SC",sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#111}
h1{font-size:1.8em}h2{font-size:1.3em;margin-top:1.5em}img{max-width:100%;height:auto;border-radius:8px}
.summary{font-size:1.25em;font-weight:600}.next{font-size:1.2em;background:#eef4ff;border-left:6px solid #1d3557;padding:.6em 1em}
.disclaimer{border:2px solid #a00;padding:.5em 1em;color:#700;font-weight:600}</style></head>
<body><main>
<h1>${esc(sh.title)}</h1>
<p>${esc(sh.patientLine)}</p>
<p>${esc(sh.intro)}</p>
<p class="summary">${esc(sh.summary)}</p>
${sh.findings.length ? `<ul>${sh.findings.map((f) => `<li>${esc(f)}</li>`).join('')}</ul>` : ''}
${img ? `<img src="${img}" alt="${esc(sh.photoAlt)}">` : ''}
<h2>${esc(sh.nextHeading)}</h2>
<p class="next">${esc(sh.next)}</p>
<p class="disclaimer">${esc(sh.disclaimer)}</p>
</main></body></html>
`;
}

const LATIN1 = /^[\u0000-\u00ff\u2013\u2014\u2018\u2019\u201c\u201d\u2022\u2026]*$/;

/**
 * Patient PDF. Latin languages are real PDF text; other scripts (Chinese) are drawn
 * line by line through a canvas with the system's fonts and embedded as images,
 * because jsPDF's built-in fonts have no CJK glyphs and we ship no remote fonts.
 */
export async function patientPdf(full: FullRecord, t: Translate, lang: string): Promise<Blob> {
  const sh = patientSheet(full.record, t, lang);
  const doc = new jsPDF({ unit: 'mm', format: 'a4', compress: false });
  doc.setProperties({ title: `${sh.title} ${full.record.patientId}` });
  const M = 18;
  const W = 210 - 2 * M;
  let y = M + 4;
  const para = (s: string, size: number, bold = false) => {
    doc.setFont('helvetica', bold ? 'bold' : 'normal');
    doc.setFontSize(size);
    const mm = size * 0.3528;
    if (LATIN1.test(s)) {
      for (const l of doc.splitTextToSize(s, W) as string[]) {
        doc.text(l, M, y);
        y += mm * 1.5;
      }
    } else {
      for (const l of wrapByWidth(s, size, W)) {
        const img = textLineImage(l, size, bold);
        doc.addImage(img.url, 'PNG', M, y - mm, img.w, img.h);
        y += mm * 1.5;
      }
    }
    y += mm * 0.5;
  };
  para(sh.title, 22, true);
  para(sh.patientLine, 14);
  para(sh.intro, 14);
  para(sh.summary, 16, true);
  for (const f of sh.findings) para(`• ${f}`, 14);
  try {
    const url = await annotatedPhotoDataUrl(full.photo, full.record.analysis, { maxSide: 1000, legend: true, names: sh.legendNames });
    const p = doc.getImageProperties(url);
    const k = Math.min(W / p.width, 100 / p.height);
    doc.addImage(url, 'JPEG', M, y, p.width * k, p.height * k);
    y += p.height * k + 8;
  } catch {
    /* photo could not be drawn: the text still stands */
  }
  para(sh.nextHeading, 16, true);
  para(sh.next, 14);
  doc.setTextColor(150, 0, 0);
  para(sh.disclaimer, 12, true);
  return doc.output('blob');
}

const PX_PER_MM = 8;
function measureCtx(size: number, bold: boolean): CanvasRenderingContext2D {
  const ctx = document.createElement('canvas').getContext('2d')!;
  ctx.font = `${bold ? 'bold ' : ''}${size * 0.3528 * PX_PER_MM}px system-ui, "Noto Sans CJK SC", "Noto Sans SC", sans-serif`;
  return ctx;
}
function wrapByWidth(s: string, size: number, widthMm: number): string[] {
  const ctx = measureCtx(size, false);
  const out: string[] = [];
  let cur = '';
  for (const ch of s) {
    if (ctx.measureText(cur + ch).width / PX_PER_MM > widthMm && cur) {
      out.push(cur);
      cur = ch;
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}
function textLineImage(s: string, size: number, bold: boolean): { url: string; w: number; h: number } {
  const probe = measureCtx(size, bold);
  const c = document.createElement('canvas');
  const lh = size * 0.3528 * PX_PER_MM * 1.4;
  c.width = Math.max(1, Math.ceil(probe.measureText(s).width) + 4);
  c.height = Math.ceil(lh);
  const ctx = c.getContext('2d')!;
  ctx.font = probe.font;
  ctx.fillStyle = '#111';
  ctx.textBaseline = 'middle';
  ctx.fillText(s, 2, c.height / 2);
  return { url: c.toDataURL('image/png'), w: c.width / PX_PER_MM, h: c.height / PX_PER_MM };
}
