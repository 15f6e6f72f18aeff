/**
 * Map geometry between the model-input grid and the original photo, using the similarity
 * transform defined with {@link PhotoTransform} (x = u * scale + offsetX; pixel i covers
 * [i, i + 1), so its centre is i + 0.5 on both grids).
 */
import type { FieldOfView, LabelMap, PhotoTransform } from '../types';

/**
 * 0/1 mask on a `size`×`size` model grid: 1 where the pixel centre lands inside the photo
 * AND inside the field-of-view circle. Used to keep outlines off the black border and the
 * square padding. When the FOV was not found the mask is just "inside the photo".
 */
export function fovMaskOnGrid(fov: FieldOfView, transform: PhotoTransform, size = transform.inputSize): Uint8Array {
  const mask = new Uint8Array(size * size);
  const k = transform.inputSize / size;
  const r2 = fov.radius * fov.radius;
  for (let v = 0; v < size; v++) {
    const y = ((v + 0.5) * k) * transform.scale + transform.offsetY;
    for (let u = 0; u < size; u++) {
      const x = ((u + 0.5) * k) * transform.scale + transform.offsetX;
      if (x < 0 || y < 0 || x >= transform.photoWidth || y >= transform.photoHeight) continue;
      if (fov.found && (x - fov.cx) ** 2 + (y - fov.cy) ** 2 > r2) continue;
      mask[v * size + u] = 1;
    }
  }
  return mask;
}

/**
 * Resamples a model-grid map (values 0..1) onto the original photo's pixel grid as 8-bit
 * greyscale (0..255), bilinear, zero outside the model's square. Row-major,
 * photoWidth × photoHeight. One pass, no float copy at photo size (12 MP photos are common).
 */
export function warpMapToPhoto(map: LabelMap, transform: PhotoTransform): Uint8Array {
  const { photoWidth: W, photoHeight: H, scale, offsetX, offsetY } = transform;
  const { width: w, height: h, data } = map;
  // The map may be coarser than the model input (e.g. raw Grad-CAM); rescale u to its grid.
  const kx = w / transform.inputSize, ky = h / transform.inputSize;
  const out = new Uint8Array(W * H);
  const sample = (i: number, j: number): number => (i < 0 || j < 0 || i >= w || j >= h ? 0 : data[j * w + i]);
  for (let y = 0; y < H; y++) {
    const v = (((y + 0.5 - offsetY) / scale) * ky) - 0.5;
    const j0 = Math.floor(v), fy = v - j0;
    if (j0 < -1 || j0 >= h) continue;
    for (let x = 0; x < W; x++) {
      const u = (((x + 0.5 - offsetX) / scale) * kx) - 0.5;
      const i0 = Math.floor(u), fx = u - i0;
      if (i0 < -1 || i0 >= w) continue;
      const top = sample(i0, j0) * (1 - fx) + sample(i0 + 1, j0) * fx;
      const bottom = sample(i0, j0 + 1) * (1 - fx) + sample(i0 + 1, j0 + 1) * fx;
      const val = top * (1 - fy) + bottom * fy;
      out[y * W + x] = Math.round(Math.min(Math.max(val, 0), 1) * 255);
    }
  }
  return out;
}
