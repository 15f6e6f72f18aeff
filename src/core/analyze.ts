/**
 * The one analysis pipeline (Jiang et al. Fig. 1 and 3):
 *   quality gate -> preprocess (§II.B) -> forward (§II.C) -> Grad-CAM per label (§II.D eq. 1-2)
 *   -> [guided backprop, Guided Grad-CAM eq. 3, combined map eq. 4] -> lesion outlines (§III, Fig. 6c),
 *   kept off the optic disc (lesions/disc.ts).
 *
 * The expensive backbone runs ONCE: its output A feeds both the logits and every label's
 * Grad-CAM (one batched backward pass through the head). Guided backprop, which needs a full
 * backward pass through the backbone, runs only when asked for.
 */
import * as tf from '@tensorflow/tfjs';
import { now } from './clock';
import { FundusLensError } from './errors';
import { combineMaps } from './explain/combine';
import { classMapsFromFeatures } from './explain/class-maps';
import { headForwardKeepingZ, type HeadForward } from './explain/grad-cam-fast';
import { guidedSaliencyMaps } from './explain/guided-backprop';
import { guidedSaliencyRecorded, recordFeatures, type FeaturesRecord } from './explain/guided-pass';
import { upsampleClassMaps } from './explain/grad-cam';
import { guidedGradCam } from './explain/guided-grad-cam';
import { logitTargets } from './explain/targets';
import { detectOpticDisc, discExclusionWeights, outlineEnclosesPoint } from './lesions/disc';
import { classMapLattice, fovMaskOnGrid } from './lesions/geometry';
import { traceClassMap, traceOutlines, DEFAULT_MIN_OUTLINE_AREA, DEFAULT_OUTLINE_THRESHOLD } from './lesions/outlines';
import type { FundusModel } from './model/fundus-model';
import { prepareBatchNorm } from './model/graph';
import { detectFov, makeTransform, preprocessToArray } from './preprocess/index';
import { assessQuality } from './quality/index';
import { yieldToEventLoop } from './yield';
import { readBackIsCopy, readOwned } from './read-owned';
import { sameFov, type PhotoChecks } from './photo-checks';
import { leaseGroup, scratchSlot } from './scratch';
import { photoKernels } from './simd/index';
import {
  LABEL_IDS,
  LESION_LABEL_IDS,
  lesionContrastOf,
  type AnalysisResult,
  type GuidedSaliencyMode,
  type CamMethod,
  type FieldOfView,
  type LabelId,
  type LabelMap,
  type LesionLabelId,
  type OpticDisc,
  type Outline,
  type QualityResult,
  type RgbImage,
  type StageName,
  type Summary,
} from './types';

/** Options of {@link analyze}. */
export interface AnalyzeOptions {
  /** analyse an ungradable photo anyway (the result then has `forced: true`). Default false. */
  force?: boolean;
  /**
   * Which maps to return in `result.maps` (default 'none'):
   * - 'none': none (Grad-CAM is still computed for the positive lesion labels, for outlines);
   * - 'gradcam': Grad-CAM for EVERY lesion label (ma, hm, hex, cws), positive or not, on the last block's own grid
   *   (e.g. 16×16 at 512²; lesions/upsampleMap with the FOV mask gives the model-grid map that is drawn, and
   *   lesions/traceClassMap traces the same surface for the outlines);
   * - 'all': also Guided Grad-CAM (eq. 3) for the POSITIVE lesion labels and their combination (eq. 4).
   */
  maps?: 'none' | 'gradcam' | 'all';
  /**
   * class-activation map (default 'gradcam', the paper's eq. 1–2; 'hirescam' keeps the
   * gradient per cell, explain/hires-cam.ts). It is what `maps.gradCam` holds, what the outlines
   * are traced on and what eq. 3 multiplies; the result records it as `camMethod`.
   */
  cam?: CamMethod;
  /** map the outlines are traced on (default 'gradcam' = the class-activation map of `cam`; 'guided-gradcam' costs a guided-backprop pass). */
  outlineSource?: 'gradcam' | 'guided-gradcam';
  /** iso-level as a fraction of each map's peak (default 0.5), see lesions/traceOutlines. */
  outlineThreshold?: number;
  /** smallest outline as a fraction of the model-input area (default 0.0005), see lesions/traceOutlines. */
  minOutlineArea?: number;
  /**
   * keep the lesion outlines off the optic disc (default true): the disc is found with
   * lesions/detectOpticDisc and the maps the outlines are traced on — copies; `result.maps`
   * are not changed — are zeroed within 0.6 disc diameters of it (fading back to 1 at 1 DD),
   * and an outline that still encloses the disc centre is dropped. No lesion type of this
   * product is called on the disc, yet Grad-CAM often peaks there. The disc found is reported
   * as `result.opticDisc`. false = outlines from the unmodified maps (the earlier behaviour).
   */
  excludeOpticDisc?: boolean;
  /** guided backprop labels per backward pass (memory vs. speed; default all at once), see explain/guided-pass. */
  guidedLabelsPerPass?: number;
  /**
   * how guided backprop becomes eq. 3's fine factor (default 'contrast': only the gradient towards each label's
   * lesion contrast, dark for BP/MA and HM, bright for HEX and CWS; 'abs': max |gradient| over channels), see
   * explain/guidedSaliency.
   */
  guidedSaliency?: GuidedSaliencyMode;
  /** called when a stage starts, with the fraction of the work done so far (0..1); ('total', 1) at the end. */
  onProgress?: (stage: StageName, fraction: number) => void;
  /** checked between stages; when true the analysis stops with FundusLensError('cancelled'). */
  signal?: { readonly aborted: boolean };
  /**
   * called once, right after preprocessing, with the model input as plain data (row-major
   * [size, size, 3], 0..1); the array is the caller's to keep (e.g. to show the preprocessed
   * image, or to hand to {@link explainDetails} later without preprocessing again).
   */
  onInput?: (input: Float32Array, size: number) => void;
  /**
   * the gate's work for THIS photo, {@link photoChecks}(image), usually still being computed in
   * another worker. analyze() then does not assess the photo itself: it starts the model at once
   * and reads the verdict at each stage boundary, stopping with the usual 'ungradable' result as
   * soon as the checks say so (unless `force`); the optic disc is taken from the checks too. The
   * result is the same as without the option, `qualityInParallel: true` and `timingsMs.quality`
   * = the checks' own time. A rejected promise rejects the analysis (every tensor released);
   * checks of another photo (a different field of view) are refused with a RangeError.
   */
  photoChecks?: PhotoChecks | Promise<PhotoChecks>;
}

/** the optic disc's outline weights, needed only inside the outline stage (scratch.ts) */
const DISC_WEIGHTS = scratchSlot();
/** the disc weights at the points of the class maps' lattice, for the outline tracer */
const LATTICE_DISC = scratchSlot();

// Rough share of the run time done before each stage starts (for progress bars only).
const PROGRESS: Partial<Record<StageName, number>> = { quality: 0, preprocess: 0.1, forward: 0.2, gradcam: 0.45, guidedBackprop: 0.6, outlines: 0.9 };

function zeros<T>(value: T): Record<LabelId, T> {
  return Object.fromEntries(LABEL_IDS.map((id) => [id, value])) as Record<LabelId, T>;
}

const isLesion = (id: LabelId): id is LesionLabelId => (LESION_LABEL_IDS as readonly string[]).includes(id);
/** Indices of the lesion labels (not 'healthy') among a model's outputs. */
export const lesionIndices = (ids: LabelId[]): number[] => ids.map((id, i) => (isLesion(id) ? i : -1)).filter((i) => i >= 0);

/**
 * Screens one photo.
 *
 * Gradable photo: probabilities (sigmoid of the logits), `positive` = probability ≥ the label's
 * threshold in the model metadata, outlines for every positive lesion label, `forced: false`.
 *
 * Ungradable photo, `force` not set: NO model output. The result carries the quality verdict,
 * `summary: 'ungradable'`, `forced: false`, EMPTY outlines, every probability 0 and every
 * `positive` false (zeros mean "not computed", never "healthy"), plus fov/transform. No model
 * runs, except with `photoChecks` still pending: then the model has started and is stopped at the
 * next stage boundary once the verdict arrives, and what it computed is dropped.
 *
 * Ungradable photo with `force: true`: the full analysis, `forced: true`. Its summary is
 * 'dr-signs' when a lesion label is positive, otherwise still 'ungradable': a poor photo
 * can show lesions, but it can never be called healthy.
 *
 * Summary of a gradable photo: 'dr-signs' when any lesion label (ma, hm, hex, cws) is
 * positive, otherwise 'healthy' (the `healthy` output is reported but does not override a
 * lesion finding).
 *
 * Maps are on the model-input grid, 0..1, zeroed outside the field of view; outlines are in
 * original-photo pixels. Every tensor is released before the promise settles, also on error
 * or cancellation.
 *
 * @throws FundusLensError 'invalid-image' | 'image-too-small' | 'image-too-large' for bad
 *   pixels, 'cancelled' when `signal.aborted` became true.
 */
export async function analyze(image: RgbImage, model: FundusModel, options: AnalyzeOptions = {}): Promise<AnalysisResult> {
  const start = now();
  const timingsMs: Partial<Record<StageName, number>> = {};
  const meta = model.metadata;
  const mapsWanted = options.maps ?? 'none';
  const outlineSource = options.outlineSource ?? 'gradcam';
  const camMethod: CamMethod = options.cam ?? 'gradcam';
  let stageStart = start;
  // The gate's verdict: computed below, or arriving from options.photoChecks while the model runs.
  let quality: QualityResult | null = null;
  let checkedDisc: { value: OpticDisc | null } | null = null;
  let checksFailed: { error: unknown } | null = null;
  let received: PhotoChecks | null = null;
  let fov: FieldOfView | null = null;
  const parallel = options.photoChecks !== undefined;
  // Handlers attached before the first await, so a promise that rejects early is never "unhandled".
  const pending: Promise<void> | null = parallel
    ? Promise.resolve(options.photoChecks!).then(
        (c) => {
          received = c;
        },
        (e: unknown) => {
          checksFailed = { error: e };
        },
      )
    : null;
  /** true when the verdict is in and says to stop (ungradable, not forced) */
  const gateSaysStop = (): boolean => {
    const c = received as PhotoChecks | null;
    if (c && fov && quality === null) {
      // The checks ran detectFov on their side (same function, same pixels): a different FOV
      // means they were computed on another photo.
      if (!sameFov(c.fov, fov)) checksFailed = { error: new RangeError('analyze: photoChecks belong to another photo (their field of view differs from this one)') };
      else {
        quality = c.quality;
        checkedDisc = { value: c.opticDisc };
        timingsMs.quality = c.ms;
      }
    }
    if (checksFailed) throw checksFailed.error;
    return quality !== null && !(quality as QualityResult).gradable && !options.force;
  };
  const STOP = Symbol('stop');
  /**
   * Awaits a read-back, unless pending checks refuse the photo first (then STOP: the caller
   * returns the ungradable result at once). On a GPU backend a read-back can take seconds; the
   * work behind it cannot be cancelled, but its tensors are released in `finally` as usual.
   */
  const readOrStop = <T>(p: Promise<T>): Promise<T | typeof STOP> => {
    if (!pending || received !== null || checksFailed !== null) return p;
    p.catch(() => undefined); // abandoned when the gate wins: its outcome no longer matters
    return Promise.race([p, pending.then(() => (gateSaysStop() ? STOP : new Promise<never>(() => undefined)))]);
  };
  /** starts a stage; true when the analysis must stop there with the ungradable result instead */
  const begin = async (stage: StageName): Promise<boolean> => {
    await yieldToEventLoop();
    if (options.signal?.aborted) throw new FundusLensError('cancelled', 'The analysis was cancelled.');
    if (gateSaysStop()) return true;
    options.onProgress?.(stage, PROGRESS[stage] ?? 0);
    stageStart = now();
    return false;
  };
  const end = (stage: StageName): void => {
    timingsMs[stage] = now() - stageStart;
  };
  const base = {
    backend: tf.getBackend(),
    model: `${meta.name}@${meta.version}`,
    camMethod,
    photoKernels: photoKernels() ? ('wasm-simd' as const) : ('js' as const),
    ...(parallel ? { qualityInParallel: true } : {}),
  };

  await begin('quality');
  // Needed by preprocessing now; with photoChecks the checks detect it again on their side, since
  // waiting for theirs would leave this thread idle for as long.
  const photoFov = detectFov(image);
  fov = photoFov;
  /** The result of a photo the gate refused: NO model output in it, even when some already ran. */
  const ungradable = (): AnalysisResult => {
    timingsMs.total = now() - start;
    options.onProgress?.('total', 1);
    return {
      quality: quality!,
      forced: false,
      probabilities: zeros(0),
      positive: zeros(false),
      summary: 'ungradable',
      outlines: [],
      transform: makeTransform(photoFov, meta.preprocess, image.width, image.height),
      fov: photoFov,
      timingsMs,
      ...base,
    };
  };
  if (!parallel) {
    quality = assessQuality(image, photoFov);
    end('quality');
  }
  if (gateSaysStop()) return ungradable();

  if (await begin('preprocess')) return ungradable();
  // Memory reused from the last analysis (scratch.ts: a fresh 3 MB array costs up to 20 ms of page faults in
  // Chromium); handed back in `finally`, once the tensors that may read it (x on the cpu backend) are disposed.
  const leases = leaseGroup();
  const inputSize = meta.preprocess.inputSize;
  const pre = preprocessToArray(image, meta.preprocess, photoFov, leases.f32(inputSize * inputSize * 3));
  const { transform } = pre;
  const size = transform.inputSize;
  end('preprocess');

  // Tensors that live across awaits (tf.tidy cannot span them); released in `finally`.
  const held: tf.Tensor[] = [];
  let record: FeaturesRecord | null = null;
  try {
    options.onInput?.(pre.data.slice(), size);
    if (await begin('forward')) return ungradable();
    const x = tf.tensor4d(pre.data, [1, size, size, 3]);
    held.push(x);
    // When guided backprop may follow, the forward keeps what its backward needs, so it needs no forward of its own
    const fwd = sharedForward(model, x, mapsWanted === 'all' || outlineSource === 'guided-gradcam', held);
    record = fwd.record;
    const { a, split } = fwd;
    const probT = tf.tidy(() => tf.sigmoid(split ? split.logits : (model.head.apply(a, { training: false }) as tf.Tensor2D)));
    held.push(probT);
    const probs = await readOrStop(probT.data());
    if (probs === STOP) return ungradable();
    end('forward');

    const ids = meta.labels.map((l) => l.id);
    const probabilities = zeros(0);
    const positive = zeros(false);
    meta.labels.forEach((l, i) => {
      probabilities[l.id] = probs[i];
      positive[l.id] = probs[i] >= l.threshold;
    });
    const lesionIdx = lesionIndices(ids);
    const positiveIdx = lesionIdx.filter((i) => positive[ids[i]]);
    const anyLesion = positiveIdx.length > 0;

    // The FOV mask on the model grid, for the maps made at model size (the guided ones; class maps only from a
    // non-square feature grid) and kept in none of them: made when first needed, since the class maps on their
    // coarse grid and their outlines (traced inside the FOV itself) do not need it.
    let maskOnGrid: Float32Array | null = null;
    const mask = (): Float32Array => (maskOnGrid ??= fovMaskOnGrid(photoFov, transform, size, leases.f32(size * size)));

    if (await begin('gradcam')) return ungradable();
    const camIdx = mapsWanted === 'none' ? positiveIdx : lesionIdx;
    let camMaps: LabelMap[] = [];
    let camsT: tf.Tensor3D | null = null;
    if (camIdx.length > 0) {
      const names = camIdx.map((i) => ids[i]);
      const grid = classMapGrid(a, size);
      const { cams, peaks } = classMapsFromFeatures(camMethod, model.head, a, logitTargets(camIdx, names), grid, split?.z);
      peaks.dispose();
      camsT = cams;
      held.push(cams);
      const camData = await readOrStop(cams.data() as Promise<Float32Array>);
      if (camData === STOP) return ungradable();
      camMaps = classLabelMaps(camData, camIdx, ids, grid, size, mask);
    }
    end('gradcam');

    let ggcMaps: LabelMap[] | undefined;
    let combined: Float32Array | undefined;
    if ((mapsWanted === 'all' || outlineSource === 'guided-gradcam') && positiveIdx.length > 0 && camsT) {
      if (await begin('guidedBackprop')) return ungradable();
      const g = await guidedMaps(model, x, camsT, camIdx, positiveIdx, ids, mask(), size, options, record, split?.z);
      ggcMaps = g.guidedGradCam;
      if (mapsWanted === 'all') combined = g.combined;
      end('guidedBackprop');
    } else if (mapsWanted === 'all') {
      ggcMaps = [];
      combined = new Float32Array(size * size);
    }

    // no tensor is needed from here on: release the recorded activations before the JS-only outline stage
    record?.dispose();
    record = null;
    // the verdict is needed from here on (summary, and whether to report anything at all)
    if (pending) await pending;
    if (await begin('outlines')) return ungradable();
    const gate = quality as QualityResult | null;
    if (!gate) throw new Error('analyze: the photo checks settled without a verdict'); // unreachable: settled = verdict or failure
    const summary: Summary = anyLesion ? 'dr-signs' : gate.gradable ? 'healthy' : 'ungradable';
    const source = outlineSource === 'guided-gradcam' ? (ggcMaps ?? []) : camMaps;
    // the disc only matters when there is something to outline
    const discFromChecks = checkedDisc as { value: OpticDisc | null } | null;
    const opticDisc: OpticDisc | null =
      options.excludeOpticDisc !== false && positiveIdx.length > 0 ? (discFromChecks ? discFromChecks.value : detectOpticDisc(image, photoFov)) : null;
    // the tracers multiply their weights into copies, so the maps returned below stay as computed
    const threshold = options.outlineThreshold ?? DEFAULT_OUTLINE_THRESHOLD;
    const minArea = options.minOutlineArea ?? DEFAULT_MIN_OUTLINE_AREA;
    // Weights used only within this synchronous stage: reused memory (scratch.ts). Class maps on their coarse grid are
    // traced on their lattice (lesions/traceClassMap) inside the FOV, with the disc weights at its points; maps
    // already at model size (the guided ones, FOV-masked already) get the disc weights on the model grid.
    let latticeDisc: Float32Array | undefined, latticeCells = 0;
    let discWeights: Float32Array | undefined;
    const outlines: Outline[] = [];
    for (const map of source) {
      if (!positive[map.label]) continue;
      let traced: Outline[];
      if (map.width === size && map.height === size) {
        if (opticDisc && !discWeights) discWeights = discExclusionWeights(opticDisc, transform, size, DISC_WEIGHTS.f32(size * size));
        traced = traceOutlines(map, transform, { threshold, minArea, mask: discWeights });
      } else {
        if (opticDisc && latticeCells !== map.width) {
          latticeCells = map.width;
          const lattice = classMapLattice(transform, latticeCells);
          latticeDisc = discExclusionWeights(opticDisc, lattice, lattice.inputSize, LATTICE_DISC.f32(lattice.inputSize ** 2));
        }
        traced = traceClassMap(map, transform, { threshold, minArea, mask: latticeDisc, fov: photoFov });
      }
      outlines.push(...(opticDisc ? traced.filter((o) => !outlineEnclosesPoint(o, opticDisc.x, opticDisc.y)) : traced));
    }
    end('outlines');

    const result: AnalysisResult = {
      quality: gate,
      forced: !gate.gradable,
      probabilities,
      positive,
      summary,
      outlines,
      transform,
      fov: photoFov,
      timingsMs,
      ...base,
    };
    if (opticDisc) result.opticDisc = opticDisc;
    if (mapsWanted !== 'none') {
      result.maps = { gradCam: camMaps };
      if (mapsWanted === 'all') {
        result.maps.guidedGradCam = ggcMaps;
        result.maps.combined = combined;
      }
    }
    timingsMs.total = now() - start;
    options.onProgress?.('total', 1);
    return result;
  } finally {
    tf.dispose(held);
    record?.dispose();
    leases.returnAll();
  }
}

/**
 * The side of the grid the class maps are returned on: the last block's own (e.g. 16 for a 512 input at stride
 * 32), where eq. 2 computes them. Upsampling is for display and for the guided product (lesions/upsampleMap,
 * explain/upsampleClassMaps). A non-square feature grid (no model here has one) keeps the model-size maps.
 */
function classMapGrid(a: tf.Tensor4D, size: number): number {
  const [, h, w] = a.shape;
  return h === w ? h : size;
}

/**
 * Per-label class maps out of a [T, grid, grid] read-back. On the coarse grid they are copies (1 KB each) and stay
 * unmasked (a cell is not inside or outside the FOV: the mask applies after upsampling, see lesions/upsampleMap); at
 * model size (a non-square feature grid) they are views of the caller's own copy, masked as {@link maskedLabelMaps}
 * with `mask()`, the FOV mask on the model grid (made only then).
 */
function classLabelMaps(data: Float32Array, indices: number[], ids: LabelId[], grid: number, size: number, mask: () => Float32Array): LabelMap[] {
  if (grid === size) return maskedLabelMaps(readBackIsCopy() ? data : new Float32Array(data), indices, ids, mask(), size);
  return indices.map((li, k) => ({ label: ids[li] as LesionLabelId, width: grid, height: grid, data: data.slice(k * grid * grid, (k + 1) * grid * grid) }));
}

/** Per-label maps out of a [T, size, size] read-back, multiplied by the FOV mask (explanations
 * on the black border or the square padding are artefacts of zero input, not findings). The maps
 * are views of `data`, masked in place: it must be the caller's own ({@link readOwned}). */
function maskedLabelMaps(data: Float32Array, indices: number[], ids: LabelId[], mask: Float32Array, size: number): LabelMap[] {
  return indices.map((li, k) => {
    const m = data.subarray(k * size * size, (k + 1) * size * size);
    for (let p = 0; p < m.length; p++) m[p] *= mask[p];
    return { label: ids[li] as LesionLabelId, width: size, height: size, data: m };
  });
}

/**
 * The one forward pass an analysis shares: the features A (recorded by explain/recordFeatures when a guided map may
 * follow, so guided backprop needs no forward of its own) and the head split at its first convolution
 * (explain/headForwardKeepingZ: z and the tail's ReLU outputs serve the class maps and the guided seeds). Tensors
 * go to `held`, except the record, which the caller disposes.
 */
function sharedForward(
  model: FundusModel,
  x: tf.Tensor4D,
  recordIt: boolean,
  held: tf.Tensor[],
): { record: FeaturesRecord | null; a: tf.Tensor4D; split: HeadForward | null } {
  const record = recordIt ? recordFeatures(model.features, x) : null;
  try {
    const a = record ? record.output : tf.tidy(() => model.features.apply(x, { training: false }) as tf.Tensor4D);
    if (!record) held.push(a);
    const split = headForwardKeepingZ(model.head, a);
    if (split) held.push(...split.tensors);
    return { record, a, split };
  } catch (e) {
    record?.dispose(); // not yet the caller's
    throw e;
  }
}

/**
 * Guided Grad-CAM (eq. 3) for `positiveIdx` and their combination (eq. 4), masked. One code
 * path for analyze(maps: 'all') and explainDetails(), so both give the same numbers.
 * @param cams [camIdx.length, g, g] class maps (unmasked) on their own grid (classMapGrid) or at `size`; not disposed.
 * @param record the forward pass of `x` recorded by recordFeatures (then no forward is run here), or null for the
 *   tf.grad path of the whole net (a model with a layer the recorded backward has no rule for)
 * @param z the head's first-convolution output of that forward (explain/headForwardKeepingZ): the guided seeds then
 *   come from its recorded tail, with no forward through the head either
 */
async function guidedMaps(
  model: FundusModel,
  x: tf.Tensor4D,
  cams: tf.Tensor3D,
  camIdx: number[],
  positiveIdx: number[],
  ids: LabelId[],
  mask: Float32Array,
  size: number,
  o: { guidedLabelsPerPass?: number; guidedSaliency?: GuidedSaliencyMode },
  record: FeaturesRecord | null,
  z?: tf.Tensor4D,
): Promise<{ guidedGradCam: LabelMap[]; combined: Float32Array }> {
  const rows = positiveIdx.map((i) => camIdx.indexOf(i));
  const contrast = (o.guidedSaliency ?? 'contrast') === 'contrast' ? positiveIdx.map((i) => lesionContrastOf(ids[i])) : undefined;
  const ggc = tf.tidy(() => {
    const targets = logitTargets(positiveIdx);
    const saliency = record
      ? guidedSaliencyRecorded(record, model.head, targets, contrast, { labelsPerPass: o.guidedLabelsPerPass, z })
      : guidedSaliencyMaps(model.net, x, targets, contrast, { labelsPerPass: o.guidedLabelsPerPass });
    // eq. 3 multiplies at the model's resolution: only the positive rows are upsampled (the class maps stay coarse)
    const camPos = upsampleClassMaps(tf.gather(cams, rows) as tf.Tensor3D, size);
    return guidedGradCam(saliency, camPos);
  });
  try {
    const guidedGradCamMaps = maskedLabelMaps(await readOwned(ggc), positiveIdx, ids, mask, size);
    const comb = combineMaps(ggc);
    try {
      const combined = await readOwned(comb); // masked in place below
      for (let p = 0; p < combined.length; p++) combined[p] *= mask[p];
      return { guidedGradCam: guidedGradCamMaps, combined };
    } finally {
      comb.dispose();
    }
  } finally {
    ggc.dispose();
  }
}

/** Options of {@link explainDetails}. */
export interface ExplainDetailsOptions {
  /**
   * the model input the analysis used (analyze()'s `onInput`); when absent or of the wrong
   * size, the photo is preprocessed again with the result's own field of view (same input).
   */
  input?: Float32Array;
  /** guided backprop labels per backward pass (memory vs. speed; default all at once), see explain/guided-pass. */
  guidedLabelsPerPass?: number;
  /**
   * how guided backprop becomes eq. 3's fine factor (default 'contrast': only the gradient towards each label's
   * lesion contrast, dark for BP/MA and HM, bright for HEX and CWS; 'abs': max |gradient| over channels), see
   * explain/guidedSaliency.
   */
  guidedSaliency?: GuidedSaliencyMode;
  /** called when a stage starts (fractions of this call's work); ('total', 1) at the end. */
  onProgress?: (stage: StageName, fraction: number) => void;
  /** checked between stages; when true the call stops with FundusLensError('cancelled'). */
  signal?: { readonly aborted: boolean };
}

/** What {@link explainDetails} adds to a result's maps. */
export interface DetailMaps {
  /** Guided Grad-CAM (eq. 3), one map per POSITIVE lesion label of the result */
  guidedGradCam: LabelMap[];
  /** eq. 4 over those maps (all zeros when no lesion label is positive) */
  combined: Float32Array;
  timingsMs: Partial<Record<StageName, number>>;
}

/**
 * The maps that `analyze(…, { maps: 'all' })` adds — Guided Grad-CAM (eq. 3) for the positive
 * lesion labels and their combination (eq. 4) — computed LATER for an earlier result. Guided
 * backprop is a full backward pass through the backbone per label (≈ 1–1.5 forward passes
 * each, after one shared forward), so an app can show the verdict, scores, Grad-CAM and outlines first (maps: 'gradcam')
 * and call this only when the user opens a view that needs it. The numbers are those
 * analyze() would have returned with maps: 'all' for the same photo and model (test).
 *
 * An ungradable result that was not forced ran no model: it gets no maps (empty list, zero
 * combined map), exactly like analyze() with maps: 'all'.
 *
 * @param image the analysed photo; may be null when `options.input` holds the model input
 * @param result the earlier result of analyze() for this photo with THIS model
 * @throws FundusLensError 'backend-failed' when `result` came from another model, or when
 *   neither the photo nor a model input of the right size was given; 'cancelled'.
 */
export async function explainDetails(image: RgbImage | null, model: FundusModel, result: AnalysisResult, options: ExplainDetailsOptions = {}): Promise<DetailMaps> {
  const start = now();
  const timingsMs: Partial<Record<StageName, number>> = {};
  const meta = model.metadata;
  if (result.model !== `${meta.name}@${meta.version}`) {
    throw new FundusLensError('backend-failed', `These maps belong to an analysis by ${result.model}, but ${meta.name}@${meta.version} is loaded: analyse the photo again.`);
  }
  const size = result.transform.inputSize;
  const ids = meta.labels.map((l) => l.id);
  const lesionIdx = lesionIndices(ids);
  const ranModel = result.quality.gradable || result.forced;
  const positiveIdx = ranModel ? lesionIdx.filter((i) => result.positive[ids[i]]) : [];
  const check = async (stage: StageName, fraction: number): Promise<void> => {
    await yieldToEventLoop();
    if (options.signal?.aborted) throw new FundusLensError('cancelled', 'The analysis was cancelled.');
    options.onProgress?.(stage, fraction);
  };
  const finish = (guidedGradCam: LabelMap[], combined: Float32Array): DetailMaps => {
    timingsMs.total = now() - start;
    options.onProgress?.('total', 1);
    return { guidedGradCam, combined, timingsMs };
  };
  if (positiveIdx.length === 0) return finish([], new Float32Array(size * size));

  let input = options.input && options.input.length === size * size * 3 ? options.input : null;
  if (!input && !image) throw new FundusLensError('backend-failed', 'explainDetails: neither the photo nor its model input was given.');
  if (!input) await check('preprocess', 0);
  // as in analyze: this call's own input and mask in reused memory, handed back in `finally`
  const leases = leaseGroup();
  const held: tf.Tensor[] = [];
  let record: FeaturesRecord | null = null;
  try {
    if (!input) {
      const t0 = now();
      const n = meta.preprocess.inputSize;
      input = preprocessToArray(image!, meta.preprocess, result.fov, leases.f32(n * n * 3)).data;
      timingsMs.preprocess = now() - t0;
    }
    const mask = fovMaskOnGrid(result.fov, result.transform, size, leases.f32(size * size));
    await check('forward', 0.05);
    let t0 = now();
    const x = tf.tensor4d(input, [1, size, size, 3]);
    held.push(x);
    // one forward for Grad-CAM and every guided map, as in analyze
    const fwd = sharedForward(model, x, true, held);
    record = fwd.record;
    const { a, split } = fwd;
    // The same Grad-CAM rows analyze(maps: 'all') computes (every lesion label), so the
    // product of eq. 3 is the same to the last bit.
    const { cams, peaks } = classMapsFromFeatures(result.camMethod ?? 'gradcam', model.head, a, logitTargets(lesionIdx, lesionIdx.map((i) => ids[i])), classMapGrid(a, size), split?.z);
    peaks.dispose();
    held.push(cams);
    timingsMs.gradcam = now() - t0;
    await check('guidedBackprop', 0.15);
    t0 = now();
    const g = await guidedMaps(model, x, cams, lesionIdx, positiveIdx, ids, mask, size, options, record, split?.z);
    timingsMs.guidedBackprop = now() - t0;
    // a cancel that arrived during the (single, long) guided stage still wins: the caller
    // asked for nothing, so it gets nothing rather than maps it no longer expects
    if (options.signal?.aborted) throw new FundusLensError('cancelled', 'The analysis was cancelled.');
    return finish(g.guidedGradCam, g.combined);
  } finally {
    tf.dispose(held);
    record?.dispose();
    leases.returnAll();
  }
}

/** Options of {@link warmUpAnalysis}. */
export interface WarmUpOptions {
  /** the class-activation map the analyses will use (default 'gradcam'; HiResCAM runs other kernels) */
  cam?: CamMethod;
  /**
   * For how many positive lesion labels to warm guided backprop, e.g. [1, 2]: its backward pass batches the
   * positive labels, and a shader backend compiles its programs per shape. Default: none.
   */
  guidedLabels?: number[];
  /** as analyze()'s (warm the setting the analyses will use) */
  guidedLabelsPerPass?: number;
  guidedSaliency?: GuidedSaliencyMode;
  /** checked before each step; when true the warm-up stops early (no error) */
  signal?: { readonly aborted: boolean };
}

/**
 * Runs analyze()'s tensor path once on a blank input, with the same functions in the same order: the shared forward
 * (recorded when guided backprop follows), the sigmoid read-back, the class maps of every lesion label, and guided
 * backprop with Guided Grad-CAM and the combined map for each count in `guidedLabels`. It does what the model's own
 * warmup() does (a forward, the BatchNorm preparation), so a caller needs only this one; warmup() covers only the
 * forward, and on WebGL/WebGPU every other kernel of a first analysis would compile its shader inside that analysis
 * (seconds on a slow GPU). Kernels depend on shapes, not values, so zeros do
 * (analyze.warmup.test.ts checks that every kernel and shape of an analysis ran here).
 * Releases every tensor it creates, also on error.
 */
export async function warmUpAnalysis(model: FundusModel, options: WarmUpOptions = {}): Promise<void> {
  const meta = model.metadata;
  const size = meta.inputSize;
  const ids = meta.labels.map((l) => l.id);
  const lesionIdx = lesionIndices(ids);
  const guided = (options.guidedLabels ?? []).filter((n) => Number.isInteger(n) && n >= 1 && n <= lesionIdx.length);
  const stop = () => options.signal?.aborted === true;
  // what the model's own warmup() adds to its forward: the explanation passes' BatchNorm scale/shift, once here
  // (a bundle loaded with foldBatchNorm has none left to prepare)
  prepareBatchNorm(model.net);
  const held: tf.Tensor[] = [];
  let record: FeaturesRecord | null = null;
  try {
    const x = tf.zeros([1, size, size, 3]) as tf.Tensor4D;
    held.push(x);
    const fwd = sharedForward(model, x, guided.length > 0, held);
    record = fwd.record;
    const { a, split } = fwd;
    const probT = tf.tidy(() => tf.sigmoid(split ? split.logits : (model.head.apply(a, { training: false }) as tf.Tensor2D)));
    held.push(probT);
    await probT.data();
    if (!lesionIdx.length || stop()) return;
    const names = lesionIdx.map((i) => ids[i]);
    const { cams, peaks } = classMapsFromFeatures(options.cam ?? 'gradcam', model.head, a, logitTargets(lesionIdx, names), classMapGrid(a, size), split?.z);
    peaks.dispose();
    held.push(cams);
    await cams.data();
    const mask = new Float32Array(size * size).fill(1);
    for (const n of guided) {
      if (stop()) return;
      await guidedMaps(model, x, cams, lesionIdx, lesionIdx.slice(0, n), ids, mask, size, options, record, split?.z);
    }
  } finally {
    tf.dispose(held);
    record?.dispose();
  }
}
