import type { LabelSpec, LesionLabelId } from '../core/types';
import type { Ctx2D } from './context';
import { DASH, DEFAULT_COLOURS } from './overlay';

export interface LegendItem {
  id: LesionLabelId;
  name: string;
  colour: string;
  dash: number[];
}

/** Legend entries for the lesion labels of a model, in metadata order. */
export function legendItems(labels: readonly LabelSpec[]): LegendItem[] {
  return labels
    .filter((l): l is LabelSpec & { id: LesionLabelId } => l.id !== 'healthy')
    .map((l) => ({ id: l.id, name: l.name, colour: l.colour ?? DEFAULT_COLOURS[l.id], dash: DASH[l.id] }));
}

/**
 * A legend box drawn onto a canvas (demo mode and exported snapshots, where the HTML
 * legend is not part of the picture): a line sample in each label's colour and dash
 * pattern, then its name. Returns the box height.
 */
export function drawLegend(ctx: Ctx2D, items: readonly LegendItem[], x: number, y: number, o: { font?: string; row?: number } = {}): number {
  const row = o.row ?? 22;
  const h = items.length * row + 12;
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.globalAlpha = 1;
  ctx.fillStyle = 'rgba(0,0,0,0.6)';
  ctx.fillRect(x, y, 190, h);
  ctx.font = o.font ?? '14px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  items.forEach((it, i) => {
    const cy = y + 6 + row * i + row / 2;
    ctx.beginPath();
    ctx.moveTo(x + 10, cy);
    ctx.lineTo(x + 46, cy);
    ctx.setLineDash(it.dash);
    ctx.strokeStyle = it.colour;
    ctx.lineWidth = 3;
    ctx.stroke();
    ctx.fillStyle = '#ffffff';
    ctx.fillText(it.name, x + 56, cy);
  });
  ctx.restore();
  return h;
}

/** SVG stroke-dasharray for the HTML legend (same pattern as the canvas). */
export function dashArray(label: LesionLabelId): string {
  return DASH[label].length ? DASH[label].join(' ') : 'none';
}
