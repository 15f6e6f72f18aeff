/**
 * The record's photo with its lesion outlines, drawn with the app's render functions
 * onto a canvas: the same picture in the record view, the PDF and the patient sheet.
 */
import type { LesionLabelId } from '../../core/types';
import { drawOutlines, drawPhoto } from '../../render/overlay';
import { drawLegend, legendItems } from '../../render/legend';
import type { RecordAnalysis } from '../records/types';

export interface AnnotatedOptions {
  maxSide?: number;
  /** draw the legend box onto the picture (exported files); the UI shows an HTML legend instead */
  legend?: boolean;
  /** legend names (patient view: plain language per label) */
  names?: Partial<Record<LesionLabelId, string>>;
}

export async function annotatedPhotoCanvas(photo: Blob, analysis: RecordAnalysis | null, o: AnnotatedOptions = {}): Promise<HTMLCanvasElement> {
  const bmp = await createImageBitmap(photo);
  const k = Math.min(1, (o.maxSide ?? 1024) / Math.max(bmp.width, bmp.height));
  const c = document.createElement('canvas');
  c.width = Math.max(1, Math.round(bmp.width * k));
  c.height = Math.max(1, Math.round(bmp.height * k));
  const ctx = c.getContext('2d')!;
  // outlines are in the analysed photo's pixels, which may be a downscaled copy of the file
  const analysedW = analysis?.transform.photoWidth ?? bmp.width;
  const view = { scale: c.width / analysedW, tx: 0, ty: 0 };
  drawPhoto(ctx, bmp, analysedW, analysis?.transform.photoHeight ?? bmp.height, view);
  bmp.close();
  if (analysis && analysis.outlines.length) {
    const colours: Partial<Record<LesionLabelId, string>> = {};
    for (const l of analysis.labels) if (l.id !== 'healthy' && l.colour) colours[l.id] = l.colour;
    drawOutlines(ctx, analysis.outlines, view, { colours, lineWidth: Math.max(2, c.width / 400), clip: { width: analysedW, height: analysis.transform.photoHeight } });
    if (o.legend) {
      const present = new Set(analysis.outlines.map((x) => x.label));
      const items = legendItems(analysis.labels)
        .filter((i) => present.has(i.id))
        .map((i) => ({ ...i, name: o.names?.[i.id] ?? i.name }));
      if (items.length) drawLegend(ctx, items, 8, 8, { font: `${Math.max(12, Math.round(c.width / 50))}px system-ui, sans-serif`, row: Math.max(20, Math.round(c.width / 32)) });
    }
  }
  return c;
}

export async function annotatedPhotoDataUrl(photo: Blob, analysis: RecordAnalysis | null, o: AnnotatedOptions = {}): Promise<string> {
  return (await annotatedPhotoCanvas(photo, analysis, o)).toDataURL('image/jpeg', 0.88);
}
