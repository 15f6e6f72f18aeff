/**
 * The RGBA pixels of a decoded photo. The canvas route (drawImage onto an OffscreenCanvas, then
 * getImageData) is what every browser offers; where WebCodecs can wrap the bitmap in a VideoFrame and
 * copy it out as RGBA, that copy skips the canvas draw and gives the same bytes. Chromium 156 on this
 * VM, in a worker, file → pixels, the two routes alternating, medians of 14: a 2144×1424 JPEG
 * 137 → 101 ms, a 1024 px sample 51 → 37 ms; every byte equal, alpha included.
 *
 * Only opaque frames that are the bitmap as it stands take it ('RGBX'/'BGRX', no rotation or flip): for a
 * bitmap with an alpha channel the two routes could differ in premultiplication, and an EXIF-rotated photo's
 * frame holds the stored, unrotated image. The copy's format conversion is checked
 * once per worker on a known colour, since a browser that ignored the `format` option would hand back
 * BGRX bytes as if they were RGBA (red and blue swapped, silently).
 */

/** Name of the performance mark the worker sets per decoded photo, its `detail` the {@link PixelRoute}. */
export const PIXELS_MARK = 'funduslens:pixels';

/** How {@link bitmapPixels} got the pixels. */
export type PixelRoute = 'webcodecs' | 'canvas';

let rgbaCopyWorks: Promise<boolean> | null = null;

/** Whether VideoFrame(bitmap).copyTo(…, { format: 'RGBA' }) gives RGBA here (probed once). */
export function webCodecsRgbaCopyWorks(): Promise<boolean> {
  return (rgbaCopyWorks ??= probe());
}

async function probe(): Promise<boolean> {
  if (typeof VideoFrame !== 'function' || typeof OffscreenCanvas !== 'function') return false;
  try {
    const c = new OffscreenCanvas(2, 1);
    const ctx = c.getContext('2d', { alpha: false });
    if (!ctx) return false;
    ctx.fillStyle = 'rgb(200, 100, 50)';
    ctx.fillRect(0, 0, 2, 1);
    const bitmap = c.transferToImageBitmap();
    try {
      // a canvas' bitmap makes a BGRA frame even without alpha (Chromium 156): this opaque one may take any format
      const copy = await copyRgba(bitmap, ANY_FORMAT);
      return copy !== null && copy.length === 8 && copy[0] === 200 && copy[1] === 100 && copy[2] === 50 && copy[3] === 255;
    } finally {
      bitmap.close();
    }
  } catch {
    return false;
  }
}

/** Frame formats a decoded photo may be copied from: opaque only (see the top of this file). */
const OPAQUE_FORMATS: readonly string[] = ['RGBX', 'BGRX'];
const ANY_FORMAT: readonly string[] = ['RGBX', 'BGRX', 'RGBA', 'BGRA'];

/** The bitmap as tightly packed RGBA through a VideoFrame, or null where that route does not apply. */
async function copyRgba(bitmap: ImageBitmap, formats: readonly string[]): Promise<Uint8ClampedArray | null> {
  let frame: VideoFrame | null = null;
  try {
    frame = new VideoFrame(bitmap, { timestamp: 0 });
    if (!formats.includes(frame.format ?? '')) return null;
    // An EXIF-rotated photo's bitmap is upright, but its frame is the stored image plus a rotation (Chromium 156:
    // rotation 90 and the coded size swapped), and copyTo copies the stored image. Only a frame that is the bitmap
    // as it stands may be copied; `rotation`/`flip` are missing in older browsers, so the size is checked too.
    const turned = (frame as { rotation?: number }).rotation ?? 0;
    const flipped = (frame as { flip?: boolean }).flip ?? false;
    if (turned !== 0 || flipped || frame.codedWidth !== bitmap.width || frame.codedHeight !== bitmap.height) return null;
    const options = { format: 'RGBA' } as VideoFrameCopyToOptions;
    const bytes = frame.allocationSize(options);
    if (bytes !== bitmap.width * bitmap.height * 4) return null;
    const out = new Uint8ClampedArray(bytes);
    await frame.copyTo(out, options);
    return out;
  } catch {
    return null;
  } finally {
    frame?.close();
  }
}

/**
 * RGBA bytes of `bitmap` (row-major, 4 per pixel, un-premultiplied as getImageData gives them). The
 * bitmap stays open: the caller still shows it.
 * @param o.webCodecs false: the canvas route whatever the browser offers (the caller knows the photo was
 *   turned by its EXIF orientation: the frame check below would catch it in Chromium, maybe not elsewhere)
 * @throws Error when this worker has no 2D canvas (then there is no way to read pixels at all)
 */
export async function bitmapPixels(bitmap: ImageBitmap, o: { webCodecs?: boolean } = {}): Promise<{ data: Uint8ClampedArray; via: PixelRoute }> {
  if (o.webCodecs !== false && (await webCodecsRgbaCopyWorks())) {
    const data = await copyRgba(bitmap, OPAQUE_FORMATS);
    if (data) return { data, via: 'webcodecs' };
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2D canvas in this worker');
  ctx.drawImage(bitmap, 0, 0);
  return { data: ctx.getImageData(0, 0, bitmap.width, bitmap.height).data, via: 'canvas' };
}

/** Forgets the probe's answer (tests). */
export function resetPixelRouteProbe(): void {
  rgbaCopyWorks = null;
}
