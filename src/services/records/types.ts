/**
 * An exam record as stored on this device (IndexedDB) and in export files. Plain data:
 * the photo travels as a Blob in IndexedDB and as base64 in an export file.
 */
import { camMethodOf, type AnalysisResult, type CamMethod, type LabelId, type LabelSpec, type PhotoTransform, type Summary } from '../../core/types';

export type Eye = 'OD' | 'OS';

/** The analysis as kept in a record: everything except the (large, recomputable) maps. */
export interface RecordAnalysis extends Pick<AnalysisResult, 'quality' | 'forced' | 'probabilities' | 'positive' | 'summary' | 'outlines'> {
  transform: PhotoTransform;
  backend: string;
  /** "name@version" as reported by the pipeline */
  model: string;
  modelName: string;
  modelVersion: string;
  /** the label specs (names, plain names, colours, thresholds) the result was judged with */
  labels: LabelSpec[];
  /** the class-activation map the outlines were traced on; absent (records saved before HiResCAM) = Grad-CAM */
  camMethod?: CamMethod;
}

/** The method a record's outlines were traced on: Grad-CAM when it does not say (older records) or says something unknown (an edited import). */
export function recordCam(a: Pick<RecordAnalysis, 'camMethod'> | null | undefined): CamMethod {
  return camMethodOf(a);
}

export interface ClinicianReview {
  reviewer: string;
  /** ISO timestamp */
  reviewedAt: string;
  /** the clinician's verdict per label where it differs from (or confirms) the model's */
  overrides: Partial<Record<LabelId, boolean>>;
  comment?: string;
}

export interface ExamRecord {
  id: string;
  /** free text or pseudonym; never required to be a real name */
  patientId: string;
  /** YYYY-MM-DD, optional */
  dateOfBirth?: string;
  eye: Eye;
  /** YYYY-MM-DD */
  captureDate: string;
  camera?: string;
  notes?: string;
  photoName: string;
  photoType: string;
  photoWidth: number;
  photoHeight: number;
  analysis: RecordAnalysis | null;
  review?: ClinicianReview;
  /** ISO timestamps */
  createdAt: string;
  updatedAt: string;
  /** bumped on every save: lets tests and the UI tell the old from the new version */
  revision: number;
}

/**
 * What lives in the `photos` store, keyed by the record id. Bytes, not Blobs: an
 * ArrayBuffer clones the same everywhere (Blob-in-IndexedDB has had engine bugs, and
 * the bytes are read before the transaction opens so the save stays one transaction).
 */
export interface StoredPhoto {
  id: string;
  original: ArrayBuffer;
  originalType: string;
  thumbnail: ArrayBuffer | null;
  thumbnailType: string;
}

/** A record with its photo, as the app saves, exports and imports it. */
export interface FullRecord {
  record: ExamRecord;
  photo: Blob;
  thumbnail: Blob | null;
}

export interface RecordFilter {
  /** substring of the patient id, case-insensitive */
  patient?: string;
  /** inclusive YYYY-MM-DD bounds on the capture date */
  from?: string;
  to?: string;
  /** 'dr-signs' | 'healthy' | 'ungradable' | 'not-analysed' | 'referred' (model or override positive) */
  result?: Summary | 'not-analysed' | 'any';
  eye?: Eye;
}

/** Label verdicts after the clinician's overrides. */
export function effectivePositive(r: ExamRecord): Partial<Record<LabelId, boolean>> {
  const out: Partial<Record<LabelId, boolean>> = { ...(r.analysis?.positive ?? {}) };
  for (const [k, v] of Object.entries(r.review?.overrides ?? {})) if (typeof v === 'boolean') out[k as LabelId] = v;
  return out;
}

/** Summary after the clinician's overrides ('not-analysed' without an analysis). */
export function effectiveSummary(r: ExamRecord): Summary | 'not-analysed' {
  if (!r.analysis) return 'not-analysed';
  if (r.analysis.summary === 'ungradable' && !r.analysis.forced) return 'ungradable';
  const pos = effectivePositive(r);
  const lesion = (['ma', 'hm', 'hex', 'cws'] as const).some((l) => pos[l]);
  if (!r.review) return r.analysis.summary;
  return lesion ? 'dr-signs' : 'healthy';
}

export type SuggestedAction = 'refer' | 'rescreen-12m' | 'retake';

/** Suggested action from the (reviewed) result: refer on any lesion, retake when ungradable. */
export function suggestedAction(r: ExamRecord): SuggestedAction {
  const s = effectiveSummary(r);
  if (s === 'ungradable' || s === 'not-analysed') return 'retake';
  if (r.analysis?.forced && !r.review) return 'retake';
  return s === 'dr-signs' ? 'refer' : 'rescreen-12m';
}

/** Strip the maps from a pipeline result for storage. */
export function toRecordAnalysis(res: AnalysisResult, labels: LabelSpec[], modelVersion?: { name: string; version: string }): RecordAnalysis {
  const [n, v] = res.model.includes('@') ? res.model.split('@') : [res.model, ''];
  return {
    quality: res.quality,
    forced: res.forced,
    probabilities: { ...res.probabilities },
    positive: { ...res.positive },
    summary: res.summary,
    outlines: res.outlines.map((o) => ({ ...o, points: o.points.map((p) => [p[0], p[1]] as [number, number]) })),
    transform: { ...res.transform },
    backend: res.backend,
    model: res.model,
    modelName: modelVersion?.name ?? n,
    modelVersion: modelVersion?.version ?? v,
    labels: labels.map((l) => ({ ...l })),
    ...(res.camMethod ? { camMethod: res.camMethod } : {}),
  };
}
