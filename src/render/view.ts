/**
 * Pan/zoom of the photo viewer as a pure value: screen = photo * scale + (tx, ty), in
 * CSS pixels of the viewer. Pure so wheel, pinch, drag and keyboard all go through the
 * same tested arithmetic.
 */
export interface ViewTransform {
  scale: number;
  tx: number;
  ty: number;
}

export const MIN_SCALE_FACTOR = 0.5; // of the fit scale
export const MAX_SCALE = 16; // screen px per photo px

/** Whole photo visible and centred. */
export function fitView(photoW: number, photoH: number, viewW: number, viewH: number): ViewTransform {
  const scale = Math.min(viewW / Math.max(1, photoW), viewH / Math.max(1, photoH));
  return { scale, tx: (viewW - photoW * scale) / 2, ty: (viewH - photoH * scale) / 2 };
}

/** One photo pixel per CSS pixel, keeping the view centre fixed. */
export function oneToOne(v: ViewTransform, viewW: number, viewH: number): ViewTransform {
  return zoomAt(v, 1 / v.scale, viewW / 2, viewH / 2, 0, Infinity);
}

/** Zoom by `factor` about the screen point (sx, sy), which stays over the same photo point. */
export function zoomAt(v: ViewTransform, factor: number, sx: number, sy: number, minScale = 0, maxScale = MAX_SCALE): ViewTransform {
  const scale = Math.min(maxScale, Math.max(minScale, v.scale * factor));
  const k = scale / v.scale;
  return { scale, tx: sx - (sx - v.tx) * k, ty: sy - (sy - v.ty) * k };
}

export function panBy(v: ViewTransform, dx: number, dy: number): ViewTransform {
  return { scale: v.scale, tx: v.tx + dx, ty: v.ty + dy };
}

export function screenToPhoto(v: ViewTransform, sx: number, sy: number): [number, number] {
  return [(sx - v.tx) / v.scale, (sy - v.ty) / v.scale];
}

export function photoToScreen(v: ViewTransform, x: number, y: number): [number, number] {
  return [x * v.scale + v.tx, y * v.scale + v.ty];
}

/**
 * Keep at least `margin` screen pixels of the photo on screen, so a fling never loses
 * the image.
 */
export function clampView(v: ViewTransform, photoW: number, photoH: number, viewW: number, viewH: number, margin = 48): ViewTransform {
  const w = photoW * v.scale;
  const h = photoH * v.scale;
  const tx = Math.min(viewW - margin, Math.max(margin - w, v.tx));
  const ty = Math.min(viewH - margin, Math.max(margin - h, v.ty));
  return { scale: v.scale, tx, ty };
}
