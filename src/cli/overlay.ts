/**
 * The overlay PNG of the CLI: the photo with each lesion outline as a solid line in its
 * label's colour (paper Fig. 6c) and a legend, drawn as an SVG and composited with sharp.
 */
import sharp from 'sharp';
import type { AnalysisResult, LabelSpec, RgbImage } from '../core/types';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const SUMMARY_TEXT: Record<AnalysisResult['summary'], string> = {
  'dr-signs': 'Signs of diabetic retinopathy found — refer for examination',
  healthy: 'No signs of diabetic retinopathy found',
  ungradable: 'Photo not gradable — retake',
};

/** SVG (photo-sized) with the outlines and a legend; pure, so it can be tested without sharp. */
export function overlaySvg(result: AnalysisResult, labels: readonly LabelSpec[], width: number, height: number): string {
  const side = Math.min(width, height);
  const stroke = Math.max(2, Math.round(side / 300));
  const font = Math.max(12, Math.round(side / 45));
  const colour = new Map(labels.map((l) => [l.id, l.colour ?? '#ffffff']));
  const parts: string[] = [];
  for (const o of result.outlines) {
    const pts = o.points.map(([x, y]) => `${x},${y}`).join(' ');
    // A dark halo under the coloured line keeps it visible on both bright exudates and dark vessels.
    parts.push(`<polygon points="${pts}" fill="none" stroke="#000" stroke-opacity="0.55" stroke-width="${stroke + 2}" stroke-linejoin="round"/>`);
    parts.push(`<polygon points="${pts}" fill="none" stroke="${esc(colour.get(o.label) ?? '#fff')}" stroke-width="${stroke}" stroke-linejoin="round"/>`);
  }
  const lines: { text: string; swatch?: string; bold?: boolean }[] = [{ text: SUMMARY_TEXT[result.summary], bold: true }];
  if (result.forced) lines.push({ text: 'FORCED: analysed although the photo failed the quality check' });
  if (!result.quality.gradable) for (const r of result.quality.reasons) lines.push({ text: `• ${r}` });
  if (result.summary !== 'ungradable' || result.forced) {
    for (const l of labels) {
      const p = result.probabilities[l.id];
      const n = result.outlines.filter((o) => o.label === l.id).length;
      const mark = result.positive[l.id] ? 'positive' : 'negative';
      lines.push({ text: `${l.name}  ${(p * 100).toFixed(0)}%  ${mark}${n ? `  (${n} outlined)` : ''}`, swatch: l.colour ?? undefined });
    }
  }
  lines.push({ text: `${result.model} · ${result.backend} · screening aid, not a diagnosis` });
  const pad = Math.round(font * 0.6);
  const lineH = Math.round(font * 1.35);
  const boxW = Math.min(width - 2 * pad, Math.round(font * 0.62 * Math.max(...lines.map((l) => l.text.length + (l.swatch ? 3 : 0)))) + 2 * pad);
  const boxH = lines.length * lineH + pad;
  parts.push(`<rect x="${pad}" y="${pad}" width="${boxW}" height="${boxH}" rx="${pad / 2}" fill="#000" fill-opacity="0.6"/>`);
  lines.forEach((l, i) => {
    const y = pad + (i + 1) * lineH - Math.round(lineH * 0.25);
    let x = 2 * pad;
    if (l.swatch) {
      parts.push(`<rect x="${x}" y="${y - font * 0.8}" width="${font}" height="${font * 0.8}" fill="none" stroke="${esc(l.swatch)}" stroke-width="${stroke}"/>`);
      x += Math.round(font * 1.6);
    }
    parts.push(
      `<text x="${x}" y="${y}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="${font}" fill="#fff"${l.bold ? ' font-weight="bold"' : ''}>${esc(l.text)}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
}

/**
 * PNG of the decoded photo (the same pixels the analysis saw, so outlines line up) with the
 * overlay composited on top.
 */
export async function renderOverlay(image: RgbImage, result: AnalysisResult, labels: readonly LabelSpec[]): Promise<Buffer> {
  const svg = Buffer.from(overlaySvg(result, labels, image.width, image.height));
  const raw = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return sharp(raw, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .composite([{ input: svg, top: 0, left: 0 }])
    .png()
    .toBuffer();
}

/** 8-bit greyscale PNG of a photo-sized map (lesions.warpMapToPhoto output). */
export async function greyPng(data: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels: 1 } }).toColourspace('b-w').png().toBuffer();
}
