/**
 * The patient's sheet: plain language, large type, no jargon; the photo with outlines;
 * what to do next. Shareable as ONE self-contained HTML file (photo inline, styles
 * inline, no scripts) — readable in any language on any device — or as a PDF (patient-pdf.ts).
 */
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
