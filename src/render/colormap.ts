/**
 * Perceptual colour maps for heat maps. Rainbow/jet maps invent edges that are not in
 * the data; viridis and inferno rise monotonically in lightness and stay readable for
 * the common colour-vision deficiencies, which matters when a clinician judges where a
 * map is "hot". The LUTs come from Matt Zucker's degree-6 polynomial fits to the
 * matplotlib tables (max error about 1/255), so no 256-row table has to ship.
 */
export type ColormapName = 'inferno' | 'viridis';

/** 256 RGB triples, row-major. */
export type Lut = Uint8Array;

const COEFFS: Record<ColormapName, number[][]> = {
  viridis: [
    [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
    [0.1050930431085774, 1.404613529898575, 1.384590162594685],
    [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
    [-4.634230498983486, -5.799100973351585, -19.33244095627987],
    [6.228269936347081, 14.17993336680509, 56.69055260068105],
    [4.776384997670288, -13.74514537774601, -65.35303263337234],
    [-5.435455855934631, 4.645852612178535, 26.3124352495832],
  ],
  inferno: [
    [0.0002189403691192265, 0.001651004631001012, -0.01948089843709184],
    [0.1065134194856116, 0.5639564367884091, 3.932712388889277],
    [11.60249308247187, -3.972853965665698, -15.9423941062914],
    [-41.70399613139459, 17.43639888205313, 44.35414519872813],
    [77.162935699427, -33.40235894210092, -81.80730925738993],
    [-71.31942824499214, 32.62606426397723, 73.20951985803202],
    [25.13112622477341, -12.24266895238567, -23.07032500287172],
  ],
};

const cache = new Map<ColormapName, Lut>();

/** The 256-entry RGB lookup table of a colour map (cached). */
export function colormapLut(name: ColormapName): Lut {
  const hit = cache.get(name);
  if (hit) return hit;
  const c = COEFFS[name];
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    for (let ch = 0; ch < 3; ch++) {
      // Horner evaluation of the polynomial, highest degree first.
      let v = c[6][ch];
      for (let k = 5; k >= 0; k--) v = v * t + c[k][ch];
      lut[i * 3 + ch] = Math.max(0, Math.min(255, Math.round(v * 255)));
    }
  }
  cache.set(name, lut);
  return lut;
}

export interface ColorizeOptions {
  /** values at or below this are fully transparent, so the photo shows through where the model saw nothing. */
  floor?: number;
  /** values at or above floor+ramp are fully opaque; between, alpha rises linearly. */
  ramp?: number;
  /** divide by the map's own maximum first (maps from different labels are not on one scale). */
  normalise?: boolean;
}

/**
 * Map values (0..1, row-major) to RGBA pixels through a LUT, with alpha rising from the
 * floor. Returns a fresh buffer (`out` reused when it has the right length) that can be
 * wrapped in an ImageData and drawn with drawImage.
 */
export function colorizeMap(values: ArrayLike<number>, lut: Lut, o: ColorizeOptions = {}, out?: Uint8ClampedArray<ArrayBuffer>): Uint8ClampedArray<ArrayBuffer> {
  const n = values.length;
  const buf = out && out.length === n * 4 ? out : new Uint8ClampedArray(n * 4);
  const floor = o.floor ?? 0.15;
  const ramp = Math.max(1e-6, o.ramp ?? 0.25);
  let max = 1;
  if (o.normalise) {
    max = 0;
    for (let i = 0; i < n; i++) if (values[i] > max) max = values[i];
    if (!(max > 0)) max = 1;
  }
  for (let i = 0; i < n; i++) {
    let v = values[i] / max;
    if (!(v > 0)) v = 0; // NaN-safe
    if (v > 1) v = 1;
    const idx = Math.round(v * 255) * 3;
    const j = i * 4;
    buf[j] = lut[idx];
    buf[j + 1] = lut[idx + 1];
    buf[j + 2] = lut[idx + 2];
    const a = (v - floor) / ramp;
    buf[j + 3] = a <= 0 ? 0 : a >= 1 ? 255 : Math.round(a * 255);
  }
  return buf;
}

/** Small horizontal colour bar (RGBA, width×height) for the legend of a heat map. */
export function colorbar(lut: Lut, width: number, height: number): Uint8ClampedArray<ArrayBuffer> {
  const buf = new Uint8ClampedArray(width * height * 4);
  for (let x = 0; x < width; x++) {
    const idx = Math.round((x / Math.max(1, width - 1)) * 255) * 3;
    for (let y = 0; y < height; y++) {
      const j = (y * width + x) * 4;
      buf[j] = lut[idx];
      buf[j + 1] = lut[idx + 1];
      buf[j + 2] = lut[idx + 2];
      buf[j + 3] = 255;
    }
  }
  return buf;
}
