/**
 * metadata.json of a model bundle: schema check. The metadata is the single source of truth
 * for preprocessing and thresholds (architecture.md), so a malformed file must fail loudly
 * at load time, naming the field, rather than produce silently wrong results later.
 */
import { FundusLensError } from '../errors';
import { LABEL_IDS, type LabelId, type ModelMetadata } from '../types';
import { GRADCAM_LAYER_DEFAULT } from './builders';
import { defaultLabels } from './labels';

/** The metadata schema version this code reads and writes. */
export const METADATA_SCHEMA_VERSION = 1;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks that `json` (parsed metadata.json) is a ModelMetadata of a supported schema version.
 * Throws FundusLensError 'model-bad-version' for another schemaVersion and
 * 'model-bad-metadata' (message naming the field) for anything else that is wrong.
 * @param file name reported in errors (default "metadata.json").
 */
export function validateMetadata(json: unknown, file = 'metadata.json'): ModelMetadata {
  const bad = (what: string): never => {
    throw new FundusLensError('model-bad-metadata', `${file}: ${what}. The model bundle is damaged or was made by another tool.`, file);
  };
  if (!isObj(json)) return bad('not a JSON object');
  if (json.schemaVersion !== METADATA_SCHEMA_VERSION) {
    throw new FundusLensError(
      'model-bad-version',
      `${file}: schema version ${JSON.stringify(json.schemaVersion)} is not supported (this app reads version ${METADATA_SCHEMA_VERSION}). ` +
        'Update the app or export the model again.',
      file,
    );
  }
  const str = (k: string): void => {
    if (typeof json[k] !== 'string' || (json[k] as string).length === 0) bad(`"${k}" must be a non-empty string`);
  };
  ['name', 'version', 'architecture', 'gradCamLayer', 'intendedUse', 'createdAt'].forEach(str);
  const posInt = (v: unknown, what: string): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) bad(`${what} must be a positive integer`);
  };
  posInt(json.inputSize, '"inputSize"');

  if (!Array.isArray(json.labels) || json.labels.length === 0) bad('"labels" must be a non-empty array');
  const seen = new Set<string>();
  (json.labels as unknown[]).forEach((l, i) => {
    const at = `labels[${i}]`;
    if (!isObj(l)) return bad(`${at} must be an object`);
    if (!LABEL_IDS.includes(l.id as LabelId)) bad(`${at}.id must be one of ${LABEL_IDS.join(', ')}`);
    if (seen.has(l.id as string)) bad(`${at}.id "${String(l.id)}" appears twice`);
    seen.add(l.id as string);
    if (typeof l.name !== 'string' || typeof l.plainName !== 'string') bad(`${at} needs string "name" and "plainName"`);
    if (l.colour !== null && typeof l.colour !== 'string') bad(`${at}.colour must be a CSS colour string or null`);
    if (typeof l.threshold !== 'number' || !(l.threshold >= 0 && l.threshold <= 1)) bad(`${at}.threshold must be a number in [0, 1]`);
  });

  const p = json.preprocess;
  if (!isObj(p)) return bad('"preprocess" must be an object');
  posInt(p.inputSize, '"preprocess.inputSize"');
  if (p.inputSize !== json.inputSize) bad('"preprocess.inputSize" must equal "inputSize"');
  if (typeof p.fovMargin !== 'number' || !Number.isFinite(p.fovMargin) || p.fovMargin < 0) bad('"preprocess.fovMargin" must be a number ≥ 0');
  if (p.clahe !== null) {
    const c = p.clahe;
    if (!isObj(c)) return bad('"preprocess.clahe" must be an object or null');
    if (c.channel !== 'lab-l' && c.channel !== 'green') bad('"preprocess.clahe.channel" must be "lab-l" or "green"');
    posInt(c.tileGrid, '"preprocess.clahe.tileGrid"');
    if (typeof c.clipLimit !== 'number' || !(c.clipLimit > 0)) bad('"preprocess.clahe.clipLimit" must be a positive number');
  }

  if (!Array.isArray(json.limitations) || json.limitations.some((s) => typeof s !== 'string')) bad('"limitations" must be an array of strings');
  const t = json.training;
  if (!isObj(t) || typeof t.summary !== 'string' || !Array.isArray(t.datasets)) bad('"training" needs "summary" (string) and "datasets" (array)');
  if (!Array.isArray(json.evaluation)) bad('"evaluation" must be an array');
  (json.evaluation as unknown[]).forEach((e, i) => {
    if (!isObj(e) || typeof e.dataset !== 'string' || !isObj(e.perLabel)) bad(`evaluation[${i}] needs "dataset" (string) and "perLabel" (object)`);
  });
  const w = json.weightsSha256;
  if (!isObj(w)) return bad('"weightsSha256" must be an object of file name → sha256 hex');
  for (const [k, v] of Object.entries(w)) {
    if (typeof v !== 'string' || !/^[0-9a-f]{64}$/.test(v)) bad(`"weightsSha256.${k}" must be 64 lower-case hex digits`);
  }
  return json as unknown as ModelMetadata;
}

/**
 * A complete, valid metadata object with neutral defaults (paper labels at threshold 0.5,
 * no CLAHE, Grad-CAM layer of our builders, no evaluation), for tests, demos and as the
 * starting point of an export. `weightsSha256` is filled by saveBundle.
 */
export function makeMetadata(over: Partial<ModelMetadata> & { inputSize: number }): ModelMetadata {
  const { inputSize } = over;
  return {
    schemaVersion: 1,
    name: 'untrained',
    version: '0.0.0',
    architecture: 'unknown',
    labels: defaultLabels(),
    preprocess: { inputSize, clahe: null, fovMargin: 0.02 },
    gradCamLayer: GRADCAM_LAYER_DEFAULT,
    intendedUse: 'Research and testing only; not a diagnosis.',
    limitations: [],
    training: { summary: 'untrained (random weights)', datasets: [] },
    evaluation: [],
    weightsSha256: {},
    createdAt: new Date(0).toISOString(),
    ...over,
  };
}
