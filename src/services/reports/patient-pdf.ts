/**
 * The patient sheet as a PDF. Loaded on demand (jsPDF is a large library the app does not
 * need until someone asks for a PDF).
 */
import { jsPDF } from 'jspdf';
import type { FullRecord } from '../records/types';
import { annotatedPhotoDataUrl } from './image';
import { patientSheet } from './patient';
import type { Translate } from './pdf';

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
