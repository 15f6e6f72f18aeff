/**
 * What scripts/make-bad-inputs.ts writes to manifest.json, as types only (no imports) so the
 * Node robustness test can check its reading against the writer without compiling the
 * generator (which pulls in training's synthetic fundus and sharp).
 */
export type BadInputKind =
  | 'reference'
  | 'reference-upright'
  | 'empty'
  | 'text-as-jpg'
  | 'truncated-jpeg'
  | 'cmyk-jpeg'
  | 'png-16bit'
  | 'png-alpha'
  | 'greyscale'
  | 'exif-rotated'
  | 'tiny'
  | 'huge'
  | 'non-fundus'
  | 'no-fov-border';

export interface BadInput {
  kind: BadInputKind;
  file: string;
  mimeType: string;
  /** pixel size as a viewer shows it (after EXIF rotation); 0×0 for files that are not images */
  width: number;
  height: number;
  /**
   * What a correct pipeline does with it: 'error' (a clear message, nothing analysed),
   * 'ok' (decoded and analysed; gradable or not is the quality gate's business), 'ungradable'
   * (decoded, the quality gate must refuse it), 'ok-or-error' (either is acceptable, e.g. a
   * truncated JPEG that a tolerant decoder shows half grey).
   */
  expect: 'error' | 'ok' | 'ungradable' | 'ok-or-error';
  /** error code the Node API/CLI must give when expect is 'error' */
  errorCode?: string;
  /** true-geometry of the retina in displayed (upright) photo pixels, where known */
  fov?: { cx: number; cy: number; radius: number };
  disc?: { x: number; y: number; diameter: number };
  note: string;
}

export interface Manifest {
  generatedBy: string;
  inputs: BadInput[];
}
