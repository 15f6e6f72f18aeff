/**
 * The typed contract between the main thread and the analysis worker. Types only: the
 * main thread imports this file with `import type`, so no tfjs code reaches its bundle.
 * Everything here is plain, structured-cloneable data; pixel buffers and bitmaps are
 * transferred, never copied, and tensors never cross.
 */
import type { AnalysisResult, CamMethod, LabelMap, ModelMetadata, StageName } from '../core/types';

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export type BackendPreference = 'auto' | BackendName;
export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export interface WorkerInit {
  /** absolute URL of the bundle folder, ending in '/' (model.json, shards, metadata.json) */
  modelUrl: string;
  backend: BackendPreference;
  /** file name -> absolute URL of tfjs-backend-wasm's .wasm binaries, served from our origin */
  wasmPaths: Record<string, string>;
  /**
   * the class-activation map the analyses will use: WebGL/WebGPU warm its backward kernels at
   * load (default 'gradcam'). A hint only: analyze() takes the method per call, and the bridge
   * does not reload the model when only this changes.
   */
  cam?: CamMethod;
  /**
   * where the photo checks (FOV, gradability gate, optic disc) run: 'auto' (default) in a second
   * worker beside the model when the device reports at least 4 cores, else in the analysis
   * worker; 'worker' always beside the model (tests, kiosks); 'inline' never
   */
  photoChecks?: PhotoChecksMode;
}

export type PhotoChecksMode = 'auto' | 'worker' | 'inline';

/** Something the user should know that is not an error (e.g. a backend fallback). */
export interface Notice {
  code: 'backend-fallback' | 'downscaled' | 'placeholder-model';
  message: string;
  /** interpolation values for the UI's translated text */
  values?: Record<string, string | number>;
}

export interface ModelInfo {
  metadata: ModelMetadata;
  backend: BackendName;
  /** backends tried before the chosen one, with why they were skipped */
  skipped: { backend: BackendName; reason: string }[];
  /**
   * GPU backends that run on a software renderer on this device (e.g. SwiftShader), which 'auto' tries only after
   * wasm because they are slower than it (worker/gpu-probe.ts); empty when a backend was chosen by name
   */
  softwareGpu?: { backend: 'webgpu' | 'webgl'; renderer: string }[];
  loadMs: number;
  /** of loadMs: the warm-up at load (WebGL/WebGPU: forward + class-activation-map shaders; wasm/cpu: 0, deferred to idle time) */
  warmupMs?: number;
  notices: Notice[];
}

export interface DecodedPhoto {
  /** display bitmap: the photo as analysed (EXIF-rotated, at most MAX_ANALYSIS_SIDE on its long side) */
  bitmap: ImageBitmap;
  width: number;
  height: number;
  /** the file's own size before any downscaling */
  originalWidth: number;
  originalHeight: number;
  decodeMs: number;
}

export type MapsRequest = 'none' | 'gradcam' | 'all';

export interface AnalyzeOptions {
  force?: boolean;
  maps?: MapsRequest;
  /** class-activation map behind the heat map, the outlines and eq. 3 (default 'gradcam'); the result records it */
  cam?: CamMethod;
  /** also return the preprocessed (cropped, CLAHE) model input for the "preprocessed" view */
  preprocessed?: boolean;
}

export type ProgressStage = StageName | 'loading-model';
export type ProgressCallback = (stage: ProgressStage, fraction: number) => void;

export interface AnalyzeResponse {
  result: AnalysisResult;
  /** model-grid RGBA (inputSize²) of the preprocessed input, when asked */
  preprocessed: { size: number; rgba: Uint8ClampedArray } | null;
  notices: Notice[];
}

/**
 * The maps an analysis with maps 'gradcam' leaves out, computed on demand (worker `details`):
 * Guided Grad-CAM (eq. 3) for the positive lesion labels and their combination (eq. 4).
 * Merge them into `result.maps` (services/runner does).
 */
export interface DetailsResponse {
  guidedGradCam: LabelMap[];
  combined: Float32Array;
  timingsMs: Partial<Record<StageName, number>>;
  notices: Notice[];
}

/** Worker-side errors cross as plain objects (comlink re-throws them as Error on the main thread). */
export interface WorkerErrorShape {
  name: string;
  code?: string;
  message: string;
  file?: string;
}

export interface AnalysisWorkerApi {
  /** load (or reload) the model on the preferred backend; resolves with what was chosen */
  init(o: WorkerInit, onProgress?: ProgressCallback): Promise<ModelInfo>;
  /** decode a photo file (any browser-decodable format) and keep its pixels for analyze(id) */
  decode(id: string, file: Blob): Promise<DecodedPhoto>;
  /** analyse a decoded photo; `file` is used to re-decode when the pixels were evicted */
  analyze(id: string, file: Blob, o: AnalyzeOptions, onProgress?: ProgressCallback): Promise<AnalyzeResponse>;
  /**
   * Guided Grad-CAM + combined map for an earlier `analyze(id)` result (lazy guided backprop:
   * the first result comes without them). Uses the model input kept from that analysis, or
   * decodes `file` and preprocesses again when it was evicted. Cancel with cancel(id).
   */
  details(id: string, file: Blob, result: AnalysisResult, onProgress?: ProgressCallback): Promise<DetailsResponse>;
  /** ask a running analysis (or details call) to stop at the next stage boundary */
  cancel(id: string): void;
  /** drop cached pixels of a photo */
  forget(id: string): void;
}

/** Photos are analysed at most this large on the long side: a 12000×9000 upload would need 430 MB as RGBA. */
export const MAX_ANALYSIS_SIDE = 4096;
