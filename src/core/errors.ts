/**
 * Typed errors: every failure a user can hit becomes one of these, with a message a
 * clinician can act on and a `code` the UI can translate.
 */
export type FundusLensErrorCode =
  | 'invalid-image'
  | 'image-too-small'
  | 'image-too-large'
  | 'decode-failed'
  | 'model-missing-file'
  | 'model-bad-hash'
  | 'model-bad-version'
  | 'model-bad-metadata'
  | 'model-unknown-layer'
  | 'model-label-mismatch'
  | 'backend-failed'
  | 'cancelled'
  | 'dataset-invalid'
  // exam records on the device (app services)
  | 'storage-full'
  | 'storage-failed'
  | 'records-invalid'
  | 'record-not-found';

export class FundusLensError extends Error {
  readonly code: FundusLensErrorCode;
  /** the file or item the error is about, when there is one */
  readonly file?: string;
  constructor(code: FundusLensErrorCode, message: string, file?: string) {
    super(message);
    this.name = 'FundusLensError';
    this.code = code;
    this.file = file;
  }
}

export function isFundusLensError(e: unknown): e is FundusLensError {
  return e instanceof Error && (e as FundusLensError).name === 'FundusLensError' && typeof (e as FundusLensError).code === 'string';
}
