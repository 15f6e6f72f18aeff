import type { Outline, PhotoTransform, LesionLabelId } from '../core/types';
import type { Ctx2D, ImageSourceLike } from './context';
import type { ViewTransform } from './view';

/**
 * Where a map on the model grid (inputSize² pixels) lands on the photo:
 * photo = model * scale + offset (PhotoTransform), so the whole grid is a square of side
 * inputSize*scale at (offsetX, offsetY). Parts of it may fall outside the photo (the
 * square padding around a cut FOV) — they are clipped by the caller's photo rectangle.
 */
export function mapPlacement(t: PhotoTransform): { x: number; y: number; w: number; h: number } {
  return { x: t.offsetX, y: t.offsetY, w: t.inputSize * t.scale, h: t.inputSize * t.scale };
}

/**
 * Draw a model-grid image (heat map or preprocessed input) over the photo, in the
 * viewer's pan/zoom. Smoothing stays on: Grad-CAM is a coarse map upsampled anyway, and
 * blocky pixels would suggest a precision it does not have.
 */
export function drawModelGridImage(ctx: Ctx2D, image: ImageSourceLike, t: PhotoTransform, view: ViewTransform, alpha = 1, clipToPhoto = true): void {
  const p = mapPlacement(t);
  ctx.save();
  ctx.setTransform(view.scale, 0, 0, view.scale, view.tx, view.ty);
  // The model grid is the FOV square, padded: where it sticks out of the photo there is
  // nothing to explain, so never paint there.
  if (clipToPhoto) clipRect(ctx, 0, 0, t.photoWidth, t.photoHeight);
  ctx.globalAlpha = alpha;
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(image, p.x, p.y, p.w, p.h);
  ctx.restore();
}

function clipRect(ctx: Ctx2D, x: number, y: number, w: number, h: number): void {
  ctx.beginPath();
  ctx.rect(x, y, w, h);
  ctx.clip();
}

/** Draw the photo itself (its own pixel grid is photo space). */
export function drawPhoto(ctx: Ctx2D, image: ImageSourceLike, width: number, height: number, view: ViewTransform): void {
  ctx.save();
  ctx.setTransform(view.scale, 0, 0, view.scale, view.tx, view.ty);
  ctx.imageSmoothingEnabled = view.scale < 2; // past 2x show real pixels: clinicians zoom to inspect them
  ctx.drawImage(image, 0, 0, width, height);
  ctx.restore();
}

/**
 * Dash pattern per label (screen pixels). Colour is never the only carrier of meaning:
 * the legend shows the same pattern next to the label's name.
 */
export const DASH: Record<LesionLabelId, number[]> = {
  ma: [2, 3],
  hm: [],
  hex: [9, 4],
  cws: [9, 3, 2, 3],
};

/** Fallback colours (paper Fig. 6) for when metadata has none. */
export const DEFAULT_COLOURS: Record<LesionLabelId, string> = {
  ma: '#ff4fd8',
  hm: '#e0202a',
  hex: '#ffd500',
  cws: '#2f7bff',
};

export interface OutlineStyle {
  colours: Partial<Record<LesionLabelId, string>>;
  /** screen pixels */
  lineWidth?: number;
  /** outline drawn thicker (hovered / focused) */
  highlight?: Outline | null;
  /** labels to draw; missing = all */
  visible?: Partial<Record<LesionLabelId, boolean>>;
  /** photo size: lines are clipped to the photo rectangle */
  clip?: { width: number; height: number };
}

/**
 * Lesion outlines in the paper's colours, each stroked twice: a dark halo under the
 * coloured dashed line, so yellow exudate outlines stay visible on a bright retina.
 * Line widths are in screen pixels whatever the zoom.
 */
export function drawOutlines(ctx: Ctx2D, outlines: readonly Outline[], view: ViewTransform, style: OutlineStyle): void {
  const lw = style.lineWidth ?? 2;
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  if (style.clip) clipRect(ctx, view.tx, view.ty, style.clip.width * view.scale, style.clip.height * view.scale);
  ctx.lineJoin = 'round';
  for (const o of outlines) {
    if (style.visible && style.visible[o.label] === false) continue;
    if (o.points.length < 2) continue;
    const hi = style.highlight === o;
    const path = () => {
      ctx.beginPath();
      const [x0, y0] = o.points[0];
      ctx.moveTo(x0 * view.scale + view.tx, y0 * view.scale + view.ty);
      for (let i = 1; i < o.points.length; i++) {
        const [x, y] = o.points[i];
        ctx.lineTo(x * view.scale + view.tx, y * view.scale + view.ty);
      }
      ctx.closePath();
    };
    path();
    ctx.setLineDash([]);
    ctx.strokeStyle = 'rgba(0,0,0,0.75)';
    ctx.lineWidth = (hi ? lw * 2 : lw) + 2;
    ctx.stroke();
    ctx.setLineDash(DASH[o.label]);
    ctx.strokeStyle = style.colours[o.label] ?? DEFAULT_COLOURS[o.label];
    ctx.lineWidth = hi ? lw * 2 : lw;
    ctx.stroke();
  }
  ctx.restore();
}

/** Even-odd point-in-polygon test. */
export function pointInPolygon(points: readonly [number, number][], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i];
    const [xj, yj] = points[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function distToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  let t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
  t = Math.max(0, Math.min(1, t));
  const ex = ax + t * dx - px;
  const ey = ay + t * dy - py;
  return Math.sqrt(ex * ex + ey * ey);
}

/**
 * The outline under a photo point: inside it, or within `tolerance` photo pixels of its
 * line (tiny microaneurysm rings are hard to hit otherwise). The smallest match wins, so
 * a lesion nested in a bigger one can still be hovered.
 */
export function hitTestOutlines(outlines: readonly Outline[], x: number, y: number, tolerance = 0, visible?: Partial<Record<LesionLabelId, boolean>>): Outline | null {
  let best: Outline | null = null;
  for (const o of outlines) {
    if (visible && visible[o.label] === false) continue;
    let hit = pointInPolygon(o.points, x, y);
    if (!hit && tolerance > 0) {
      for (let i = 0, j = o.points.length - 1; i < o.points.length; j = i++) {
        if (distToSegment(x, y, o.points[j][0], o.points[j][1], o.points[i][0], o.points[i][1]) <= tolerance) {
          hit = true;
          break;
        }
      }
    }
    if (hit && (!best || o.area < best.area)) best = o;
  }
  return best;
}

/** RGBA buffer of a model-grid RGB float image (0..1, HWC) — the preprocessed (CLAHE) view. */
export function rgbFloatToRgba(data: ArrayLike<number>, width: number, height: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(width * height * 4);
  for (let i = 0, n = width * height; i < n; i++) {
    out[i * 4] = data[i * 3] * 255;
    out[i * 4 + 1] = data[i * 3 + 1] * 255;
    out[i * 4 + 2] = data[i * 3 + 2] * 255;
    out[i * 4 + 3] = 255;
  }
  return out;
}
