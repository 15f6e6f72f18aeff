/**
 * Warms the JavaScript of an analysis' photo stages (field of view, gradability gate, optic disc, preprocessing)
 * while the app is idle, so the first photos of a session do not run them in V8's slow tiers.
 *
 * These stages are plain JS over every pixel (no tfjs), and V8 optimises a function only after it has run a
 * while. Measured in the app's analysis worker (wasm, this machine, the same 1024×683 sample analysed again and
 * again): the field of view took 179 → 127 → 89 → 41 → 32 ms and the gradability gate 267 → 171 → 111 → 101 → 90
 * ms over the first five analyses, against 16 and 72 ms warm in Node. A warm-up of the model alone (what
 * FundusModel.warmup does) leaves all of that to the user's first photos.
 *
 * The steps run one per macrotask on a synthetic fundus photo with the pixel layout the worker's decoder gives
 * (RGBA in a Uint8ClampedArray), so the type feedback V8 collects is that of real photos. The caller stops them as
 * soon as a real job arrives: at most one step is then still running (the gate works on a fixed 512² copy, so its
 * step takes ~0.1–0.25 s while still cold, whatever the photo's size). The model-grid outline tracer was left out:
 * warmed on a synthetic map it made the first real outlines slower, not faster (measured: 118–134 → 145–170 ms).
 * The class maps' lattice tracer (lesions/traceClassMap) is warmed on a Grad-CAM-like 16² map: in a fresh Node
 * process its stage took 46, 47, 8, 27, 35 ms over the first five analyses before settling at 5–10 ms.
 */
import { detectOpticDisc, discExclusionWeights } from '../core/lesions/disc';
import { classMapLattice } from '../core/lesions/geometry';
import { traceClassMap } from '../core/lesions/outlines';
import { makeTransform } from '../core/preprocess/transform';
import { preprocessToArray } from '../core/preprocess/index';
import { detectFov } from '../core/preprocess/fov';
import { syntheticFundus } from '../core/preprocess/synthetic-photos';
import { assessQuality } from '../core/quality/index';
import type { FieldOfView, LabelMap, PreprocessParams, RgbImage } from '../core/types';

/** Rounds of all steps: the measurements above settle after about five analyses (12 rounds measured no better than 6). */
export const WARMUP_ROUNDS = 6;

/** The photo the steps work on: a synthetic fundus as the browser decodes photos (RGBA, Uint8ClampedArray). */
export function warmupPhoto(width = 768, height = 512): RgbImage {
  const rgb = syntheticFundus({ width, height, cx: width / 2, cy: height / 2, r: height * 0.47, seed: 3 });
  const n = width * height;
  const rgba = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    rgba[i * 4] = rgb.data[i * 3];
    rgba[i * 4 + 1] = rgb.data[i * 3 + 1];
    rgba[i * 4 + 2] = rgb.data[i * 3 + 2];
    rgba[i * 4 + 3] = 255;
  }
  return { width, height, channels: 4, data: rgba as unknown as Uint8Array };
}

/**
 * The warm-up steps, in the order an analysis runs them, for `rounds` rounds.
 * @param checks whether this worker runs the photo checks itself (FOV, gradability, disc); it always runs the FOV
 *   (preprocessing needs it) and preprocessing
 */
export function photoStageSteps(preprocess: PreprocessParams, checks: boolean, rounds = WARMUP_ROUNDS): (() => void)[] {
  let image: RgbImage | null = null;
  let fov: FieldOfView | null = null;
  const round: (() => void)[] = [
    () => {
      image ??= warmupPhoto();
      fov = detectFov(image);
    },
    ...(checks ? [() => void assessQuality(image!, fov!)] : []),
    () => void preprocessToArray(image!, preprocess, fov!),
    // the optic disc is found by the checks (here only when they run here)
    ...(checks ? [() => void detectOpticDisc(image!, fov!)] : []),
    () => void warmOutlines(image!, fov!, preprocess),
  ];
  return Array.from({ length: rounds }, () => round).flat();
}

/** A Grad-CAM-like class map on the 16² grid: two blobs, as a read-back gives it (Float32Array). */
export function warmupClassMap(cells = 16): LabelMap {
  const data = new Float32Array(cells * cells);
  for (let j = 0; j < cells; j++)
    for (let i = 0; i < cells; i++) {
      const a = ((i - cells * 0.3) ** 2 + (j - cells * 0.6) ** 2) / 6, b = ((i - cells * 0.7) ** 2 + (j - cells * 0.35) ** 2) / 4;
      data[j * cells + i] = Math.exp(-a) + 0.7 * Math.exp(-b);
    }
  return { label: 'hex', width: cells, height: cells, data };
}

/** The outline stage as analyze() runs it for a class map: on its lattice, inside the FOV, with disc weights. */
function warmOutlines(image: RgbImage, fov: FieldOfView, preprocess: PreprocessParams): void {
  const t = makeTransform(fov, preprocess, image.width, image.height);
  const map = warmupClassMap();
  const lattice = classMapLattice(t, map.width);
  const disc = { x: fov.cx + fov.radius * 0.4, y: fov.cy, diameter: fov.radius * 0.3, confidence: 5 };
  traceClassMap(map, t, { mask: discExclusionWeights(disc, lattice, lattice.inputSize), fov });
}
