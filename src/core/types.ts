/**
 * Shared, framework-free types of the FundusLens core. Everything that crosses a
 * boundary (worker bridge, CLI output, training export) is described here as plain
 * data: typed arrays, numbers and strings, never tensors.
 */

/** The five labels of the paper's element annotation, in model output order. */
export type LabelId = 'ma' | 'hm' | 'hex' | 'cws' | 'healthy';
/** Lesion labels (everything except `healthy`): the ones that get maps and outlines. */
export type LesionLabelId = Exclude<LabelId, 'healthy'>;

export const LABEL_IDS: readonly LabelId[] = ['ma', 'hm', 'hex', 'cws', 'healthy'] as const;
export const LESION_LABEL_IDS: readonly LesionLabelId[] = ['ma', 'hm', 'hex', 'cws'] as const;

/**
 * Whether a lesion is darker or brighter than the retina around it. Microaneurysms and haemorrhages are red
 * dots and blots (blood, darker than the orange fundus); hard exudates (yellow, waxy) and cotton-wool spots
 * (white, fluffy) are brighter — the appearance the paper's element annotation describes (§II.A) and every
 * grading guide uses. Guided saliency keeps the gradient in this direction only (see guidedSaliency).
 */
export type LesionContrast = 'dark' | 'bright';
export const LESION_CONTRAST: Readonly<Record<LesionLabelId, LesionContrast>> = { ma: 'dark', hm: 'dark', hex: 'bright', cws: 'bright' };

/** The contrast of a label id, or null for `healthy` and ids this version does not know (another model's). */
export function lesionContrastOf(id: string): LesionContrast | null {
  return Object.prototype.hasOwnProperty.call(LESION_CONTRAST, id) ? LESION_CONTRAST[id as LesionLabelId] : null;
}

/**
 * How guided backprop's gradient [s, s, 3] becomes one saliency value per pixel (the fine factor of eq. 3):
 * `contrast` (default) keeps the part that pushes the pixel towards its label's lesion contrast; `abs` is the
 * usual max over channels of |gradient| (Simonyan et al. 2014), which also lights up opposite-contrast edges.
 */
export type GuidedSaliencyMode = 'contrast' | 'abs';

/**
 * A decoded photo: 8-bit, row-major, interleaved, EXIF orientation already applied by
 * the decoder. `channels` 4 means RGBA (canvas ImageData); alpha is ignored.
 */
export interface RgbImage {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
}

/** Field of view: the (possibly top/bottom-cut) circular retina region, in photo pixels. */
export interface FieldOfView {
  /** false when no plausible retina disc was found (then the other fields describe the whole frame). */
  found: boolean;
  cx: number;
  cy: number;
  /** radius of the fitted circle (photo pixels). */
  radius: number;
  /** bounding box of the visible FOV, clipped to the photo: [x0, y0, x1, y1) */
  bbox: [number, number, number, number];
  /** fraction of the fitted circle that lies inside the photo (1 = whole disc visible). */
  circleVisibleFraction: number;
  /** fraction of the photo covered by the FOV mask. */
  coverage: number;
}

/** CLAHE parameters; recorded in model metadata so training and serving cannot drift. */
export interface ClaheParams {
  /** which signal is equalised: L of CIELAB (colour-preserving) or the green channel. */
  channel: 'lab-l' | 'green';
  /** tiles across and down the image, e.g. 8 -> 8x8 grid. */
  tileGrid: number;
  /** OpenCV-style clip limit (multiple of the mean bin height). */
  clipLimit: number;
}

/** Preprocessing parameters, the single source of truth is a model's metadata.json. */
export interface PreprocessParams {
  /** model input side in pixels (square). */
  inputSize: number;
  /** null disables CLAHE. */
  clahe: ClaheParams | null;
  /** extra margin around the FOV bbox before padding to square, as a fraction of the radius. */
  fovMargin: number;
}

/**
 * Similarity transform between model-input pixels (u, v) and original-photo pixels (x, y):
 *   x = u * scale + offsetX,  y = v * scale + offsetY
 * Pixel centres convention: continuous coordinates, pixel (i, j) covers [i, i+1).
 */
export interface PhotoTransform {
  inputSize: number;
  photoWidth: number;
  photoHeight: number;
  scale: number;
  offsetX: number;
  offsetY: number;
}

/** Gradability verdict. `reasons` are human-readable and actionable. */
export interface QualityResult {
  gradable: boolean;
  /** 0 (useless) .. 1 (excellent) */
  score: number;
  reasons: string[];
  /** machine-readable reason codes matching `reasons` one to one. */
  codes: QualityCode[];
  /** the raw measures, for the details view and for calibration. */
  measures: Record<string, number>;
}

export type QualityCode =
  | 'no-fov'
  | 'not-fundus'
  | 'too-dark'
  | 'too-bright'
  | 'saturated'
  | 'blurred'
  | 'low-contrast'
  | 'noisy'
  | 'too-small'
  | 'fov-cut';

/** One label's description in the model metadata. */
export interface LabelSpec {
  id: LabelId;
  /** short display name from the paper, e.g. "BP/MA" */
  name: string;
  /** plain-language name for patients, e.g. "small spots of bleeding" */
  plainName: string;
  /** CSS colour for outlines/legend (paper Fig. 6); null for healthy (no outline). */
  colour: string | null;
  /** decision threshold on the sigmoid probability. */
  threshold: number;
}

/** Per-label evaluation numbers stored in metadata and shown on the model card. */
export interface LabelMetrics {
  sensitivity: number;
  specificity: number;
  accuracy: number;
  auc: number;
  n: number;
  positives: number;
  /** fraction of images (label truly present, with mask/boxes) whose Grad-CAM peak hits the lesion */
  pointingGame?: number;
  /** number of images the pointing game was computed over */
  pointingGameN?: number;
  /** mean average precision (AUPR) of the Grad-CAM map against the lesion mask (masks only) */
  localizationAp?: number;
  /** decision threshold the sensitivity/specificity/accuracy were computed at */
  threshold?: number;
}

/**
 * One row of a localization table: how well one explanation map points at one label's lesions
 * (training/src/evaluate.ts; pointing game per Zhang et al. 2016, AUPR against the lesion mask).
 */
export interface LocalizationMetrics {
  /** a lesion label id, or 'red' (max of the ma and hm maps against CODRAS red boxes) */
  label: string;
  /** what the map was scored against */
  source: 'mask' | 'boxes';
  /** images where the label is truly present and annotated */
  n: number;
  /** images whose map peak lies within the tolerance of the lesion */
  hits: number;
  /** hits / n */
  pointingGame: number;
  /** mean hit rate of a peak placed at random in the field of view (the pointing game's baseline) */
  chance: number;
  /** maps with no positive value anywhere (misses) */
  emptyMaps: number;
  /** fraction of images an ideal map on the same coarse grid would hit (peak at a cell centre); Grad-CAM only */
  upperBound?: number;
  upperBoundHits?: number;
  /** connected lesions on the model grid over all images, and how many lie within the tolerance of a cell centre (Grad-CAM, masks) */
  lesions?: number;
  reachableLesions?: number;
  /** the pointing game at a second, coarser tolerance, reported beside the stated one */
  coarse?: { tolerancePx: number; hits: number; pointingGame: number; chance: number; upperBound?: number; upperBoundHits?: number };
  /** mean average precision of the map's pixels against the mask (masks only) */
  meanAp?: number;
  /** mean lesion pixel fraction: the AUPR of an uninformative map (masks only) */
  prevalence?: number;
}

/**
 * An explanation map an evaluation scores: 'gradcam' = Grad-CAM (Jiang et al. eq. 1–2);
 * 'guided-gradcam' = Guided Grad-CAM (eq. 3); 'hirescam' / 'guided-hirescam' = the same with
 * HiResCAM (explain/hires-cam.ts) in place of Grad-CAM.
 */
export type LocalizationMapKind = 'gradcam' | 'guided-gradcam' | 'hirescam' | 'guided-hirescam';

/** The localization of one explanation map over an evaluation set. */
export interface LocalizationTable {
  map: LocalizationMapKind;
  /** human-readable name, e.g. "Grad-CAM (eq. 1–2, 16×16 grid)" */
  name: string;
  /** the pointing-game tolerance in model pixels (0.1 optic-disc diameter unless stated otherwise) */
  tolerancePx: number;
  /** side of the map's native grid in cells (Grad-CAM: the last block's side, 16 at 512²); absent = pixel resolution */
  grid?: number;
  /** guided maps: how guided backprop's gradient became the fine factor (absent in tables written before 'contrast' existed: 'abs') */
  guidedSaliency?: GuidedSaliencyMode;
  rows: LocalizationMetrics[];
}

export interface EvaluationSummary {
  dataset: string;
  description: string;
  perLabel: Partial<Record<LabelId | 'red' | 'dr', LabelMetrics>>;
  /** one table per explanation map scored (absent in summaries written before both maps were scored) */
  localization?: LocalizationTable[];
}

/** metadata.json of a model bundle (schemaVersion 1). */
export interface ModelMetadata {
  schemaVersion: 1;
  name: string;
  version: string;
  architecture: string;
  labels: LabelSpec[];
  inputSize: number;
  preprocess: PreprocessParams;
  /** name of the layer whose output is A^k for Grad-CAM (paper eq. 1). */
  gradCamLayer: string;
  intendedUse: string;
  limitations: string[];
  training: {
    summary: string;
    datasets: string[];
    date?: string;
    [key: string]: unknown;
  };
  evaluation: EvaluationSummary[];
  /** weight file name -> sha256 hex */
  weightsSha256: Record<string, string>;
  createdAt: string;
}

/** The optic disc found on a photo (lesions/detectOpticDisc), in photo pixels. */
export interface OpticDisc {
  /** centre, photo pixels (continuous: pixel i covers [i, i + 1)) */
  x: number;
  y: number;
  /** disc diameter, photo pixels (the typical size for this field of view, not measured) */
  diameter: number;
  /** peak contrast in units of the spread of window means; higher = clearer (≥ 2 when reported) */
  confidence: number;
}

/** One lesion outline in original-photo pixels. */
export interface Outline {
  label: LesionLabelId;
  /** closed ring [[x, y], ...] in photo pixels */
  points: [number, number][];
  /** area in photo pixels² */
  area: number;
  /** peak map value inside the outline, 0..1 */
  score: number;
}

/**
 * A per-label map, values 0..1, row-major width × height. Guided Grad-CAM maps are on the model-input grid
 * (inputSize², FOV-masked); class-activation maps (`maps.gradCam`) on the last block's coarse grid, unmasked:
 * lesions/upsampleMap(map, inputSize, fovMaskOnGrid(fov, transform)) is the model-grid map that is drawn; outlines are
 * traced on the same surface sampled on the map's lattice (lesions/traceClassMap).
 */
export interface LabelMap {
  label: LesionLabelId;
  width: number;
  height: number;
  data: Float32Array;
}

export type Summary = 'healthy' | 'dr-signs' | 'ungradable';

/**
 * The class-activation map behind `maps.gradCam`, the outlines and the guided product (eq. 3):
 * 'gradcam' = the paper's eq. 1–2 (default); 'hirescam' = HiResCAM (explain/hires-cam.ts),
 * the gradient kept per cell instead of averaged, which follows the head more closely.
 */
export type CamMethod = 'gradcam' | 'hirescam';

/** Every {@link CamMethod}, the paper's first (the app's select, the CLI's --cam, stored settings). */
export const CAM_METHODS: readonly CamMethod[] = ['gradcam', 'hirescam'];

/**
 * The method a result or record carries: Grad-CAM when it names none (saved before HiResCAM
 * existed) or one this version does not know (an edited import file).
 */
export function camMethodOf(x: { camMethod?: unknown } | null | undefined): CamMethod {
  return (CAM_METHODS as readonly unknown[]).includes(x?.camMethod) ? (x!.camMethod as CamMethod) : 'gradcam';
}

export type StageName = 'decode' | 'quality' | 'preprocess' | 'forward' | 'gradcam' | 'guidedBackprop' | 'outlines' | 'total';

/** Result of one analysis. Plain data: safe to post from a worker or write as JSON. */
export interface AnalysisResult {
  quality: QualityResult;
  /** true when the photo was ungradable and the caller forced the analysis anyway. */
  forced: boolean;
  probabilities: Record<LabelId, number>;
  positive: Record<LabelId, boolean>;
  summary: Summary;
  outlines: Outline[];
  /**
   * which class-activation map `maps.gradCam`, the outlines and `maps.guidedGradCam` were
   * built on; absent = 'gradcam' (results stored before HiResCAM existed)
   */
  camMethod?: CamMethod;
  maps?: {
    /** the class-activation map of `camMethod` (Grad-CAM unless camMethod says otherwise), on its coarse grid (see {@link LabelMap}) */
    gradCam: LabelMap[];
    guidedGradCam?: LabelMap[];
    /** eq. 4 over the positive lesion labels, normalised to 0..1 */
    combined?: Float32Array;
  };
  transform: PhotoTransform;
  fov: FieldOfView;
  timingsMs: Partial<Record<StageName, number>>;
  /**
   * true when the gradability gate ran beside the model (analyze's `photoChecks`, e.g. in a
   * second worker): `timingsMs.quality` is then the gate's own time, which overlapped the other
   * stages instead of adding to `total`
   */
  qualityInParallel?: boolean;
  /**
   * how this analysis ran its photo stages' hot loops (resampling, the gate's blurs): 'wasm-simd' with the
   * WebAssembly kernels of simd/, 'js' where this runtime lacks WebAssembly SIMD or forbids compiling it. The
   * numbers are the same either way; only the time differs. Absent in results stored before it existed.
   */
  photoKernels?: 'wasm-simd' | 'js';
  backend: string;
  model: string;
  /**
   * the optic disc the lesion outlines were kept off (absent when no disc was found, when the
   * caller passed `excludeOpticDisc: false`, or when no model ran); the maps are not changed
   */
  opticDisc?: OpticDisc;
}
