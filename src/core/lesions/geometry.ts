/**
 * Map geometry between the model-input grid and the original photo, using the similarity
 * transform defined with {@link PhotoTransform} (x = u * scale + offsetX; pixel i covers
 * [i, i + 1), so its centre is i + 0.5 on both grids).
 */
import type { FieldOfView, LabelMap, PhotoTransform } from '../types';

/**
 * Field-of-view weights on a `size`×`size` model grid: 1 inside the FOV circle, 0 outside,
 * with a one-pixel anti-aliased rim (so a map cut by it gives a smooth outline, not a
 * staircase), and 0 where the pixel centre falls outside the photo (the square padding).
 * Multiply explanation maps by it: what the model "sees" on the black border is an artefact
 * of zero input, not a finding. Without a FOV (`found: false`) only the photo bounds apply.
 */
export function fovMaskOnGrid(fov: FieldOfView, transform: PhotoTransform, size = transform.inputSize): Float32Array {
  const mask = new Float32Array(size * size);
  const k = transform.inputSize / size;
  const px = transform.scale * k; // photo pixels per grid pixel
  const r = fov.radius / px;
  const cu = (fov.cx - transform.offsetX) / px;
  const cv = (fov.cy - transform.offsetY) / px;
  for (let v = 0; v < size; v++) {
    const y = (v + 0.5) * px + transform.offsetY;
    const dv = v + 0.5 - cv;
    for (let u = 0; u < size; u++) {
      const x = (u + 0.5) * px + transform.offsetX;
      if (x < 0 || y < 0 || x >= transform.photoWidth || y >= transform.photoHeight) continue;
      const du = u + 0.5 - cu;
      // sqrt, not Math.hypot: within an ulp, and hypot cost ~30 ns a call here (8 ms at 512²)
      mask[v * size + u] = fov.found ? Math.min(1, Math.max(0, r - Math.sqrt(du * du + dv * dv) + 0.5)) : 1;
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
