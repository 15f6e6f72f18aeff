/**
 * Hand-written SVG charts for the evaluation report (no dependencies): ROC curves (paper
 * Fig. 5) and the label distribution (paper Fig. 4). Output is a standalone SVG document
 * string that renders in browsers, GitHub and the app's model card.
 */
import type { RocCurve } from '../../../src/core/metrics/index';
import type { LabelCount } from './classification';

export interface RocSeries {
  name: string;
  colour: string;
  roc: RocCurve;
  auc: number;
  /** the operating point (fpr, tpr) at the bundle's threshold, drawn as a dot */
  point?: [number, number];
}

/** Escapes text for XML content and attribute values. */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

const f = (v: number): string => (Math.round(v * 100) / 100).toString();

/** Label colours (paper Fig. 6) may be null (healthy): fall back to a neutral set. */
export const FALLBACK_COLOURS = ['#1d3557', '#6c757d', '#2a9d8f', '#8338ec', '#fb8500'];

/**
 * ROC chart: axes 0..1 with a 0.2 grid, the chance diagonal, one polyline per series (points
 * joined straight, so tied scores appear as diagonal segments, matching the AUC's ½ for ties),
 * a dot at each operating point, and a legend with AUC. Series whose ROC is undefined (a
 * class absent) are listed in the legend as "not evaluable" and not drawn.
 */
export function rocSvg(series: readonly RocSeries[], title: string, size = 360): string {
  const m = { l: 48, r: 18, t: 28, b: 40 };
  const legendH = 16 * series.length + 8;
  const w = size;
  const plot = size - m.l - m.r;
  const h = m.t + plot + m.b + legendH;
  const X = (v: number) => m.l + v * plot;
  const Y = (v: number) => m.t + (1 - v) * plot;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="11">`);
  parts.push(`<title>${xmlEscape(title)}</title>`);
  parts.push(`<rect x="0" y="0" width="${w}" height="${h}" fill="#ffffff"/>`);
  parts.push(`<text x="${w / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${xmlEscape(title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const v = i / 5;
    parts.push(`<line x1="${f(X(v))}" y1="${f(Y(0))}" x2="${f(X(v))}" y2="${f(Y(1))}" stroke="#e5e5e5"/>`);
    parts.push(`<line x1="${f(X(0))}" y1="${f(Y(v))}" x2="${f(X(1))}" y2="${f(Y(v))}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${f(X(v))}" y="${f(Y(0) + 14)}" text-anchor="middle">${v.toFixed(1)}</text>`);
    parts.push(`<text x="${f(X(0) - 6)}" y="${f(Y(v) + 4)}" text-anchor="end">${v.toFixed(1)}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${plot}" height="${plot}" fill="none" stroke="#333"/>`);
  parts.push(`<line x1="${X(0)}" y1="${Y(0)}" x2="${X(1)}" y2="${Y(1)}" stroke="#999" stroke-dasharray="4 4"/>`);
  parts.push(`<text x="${f(X(0.5))}" y="${f(Y(0) + 30)}" text-anchor="middle">1 − specificity (false positive rate)</text>`);
  parts.push(`<text transform="translate(14 ${f(Y(0.5))}) rotate(-90)" text-anchor="middle">sensitivity (true positive rate)</text>`);
  series.forEach((s, i) => {
    const ok = s.roc.fpr.length > 1 && s.roc.fpr.every(Number.isFinite) && s.roc.tpr.every(Number.isFinite);
    const ly = m.t + plot + m.b + 12 + 16 * i;
    if (ok) {
      const pts = s.roc.fpr.map((x, k) => `${f(X(x))},${f(Y(s.roc.tpr[k]))}`).join(' ');
      parts.push(`<polyline class="roc" data-label="${xmlEscape(s.name)}" points="${pts}" fill="none" stroke="${xmlEscape(s.colour)}" stroke-width="2"/>`);
      if (s.point && s.point.every(Number.isFinite)) {
        parts.push(`<circle cx="${f(X(s.point[0]))}" cy="${f(Y(s.point[1]))}" r="4" fill="${xmlEscape(s.colour)}" stroke="#000" stroke-width="0.8"/>`);
      }
    }
    const text = ok ? `${s.name}  AUC ${Number.isFinite(s.auc) ? s.auc.toFixed(3) : 'n/a'}` : `${s.name}  not evaluable (one class absent)`;
    parts.push(`<line x1="${m.l}" y1="${ly - 4}" x2="${m.l + 22}" y2="${ly - 4}" stroke="${xmlEscape(s.colour)}" stroke-width="3"${ok ? '' : ' stroke-dasharray="2 2"'}/>`);
    parts.push(`<text x="${m.l + 28}" y="${ly}">${xmlEscape(text)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/**
 * Label distribution (paper Fig. 4): one horizontal stacked bar per label — present,
 * absent, unknown — with the counts written on it.
 */
export function distributionSvg(counts: readonly LabelCount[], title: string, width = 480): string {
  const m = { l: 70, r: 16, t: 30, b: 36 };
  const barH = 22;
  const gap = 10;
  const h = m.t + counts.length * (barH + gap) + m.b;
  const total = Math.max(1, ...counts.map((c) => c.positives + c.negatives + c.unknown));
  const plot = width - m.l - m.r;
  const W = (v: number) => (v / total) * plot;
  const colours = { positives: '#d62828', negatives: '#8ecae6', unknown: '#cccccc' } as const;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}" font-family="sans-serif" font-size="11">`);
  parts.push(`<title>${xmlEscape(title)}</title>`);
  parts.push(`<rect x="0" y="0" width="${width}" height="${h}" fill="#ffffff"/>`);
  parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${xmlEscape(title)}</text>`);
  counts.forEach((c, i) => {
    const y = m.t + i * (barH + gap);
    parts.push(`<text x="${m.l - 6}" y="${y + barH / 2 + 4}" text-anchor="end">${xmlEscape(c.id)}</text>`);
    let x = m.l;
    for (const key of ['positives', 'negatives', 'unknown'] as const) {
      const v = c[key];
      if (v <= 0) continue;
      const bw = W(v);
      parts.push(`<rect class="${key}" data-label="${xmlEscape(c.id)}" data-count="${v}" x="${f(x)}" y="${y}" width="${f(bw)}" height="${barH}" fill="${colours[key]}" stroke="#fff"/>`);
      if (bw > 18) parts.push(`<text x="${f(x + bw / 2)}" y="${y + barH / 2 + 4}" text-anchor="middle">${v}</text>`);
      x += bw;
    }
  });
  const ly = h - 14;
  let lx = m.l;
  for (const [key, name] of [['positives', 'present'], ['negatives', 'absent'], ['unknown', 'unknown']] as const) {
    parts.push(`<rect x="${lx}" y="${ly - 9}" width="12" height="12" fill="${colours[key]}"/>`);
    parts.push(`<text x="${lx + 16}" y="${ly + 1}">${name}</text>`);
    lx += 80;
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
