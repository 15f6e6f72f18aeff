import { FundusLensError, isFundusLensError, type FundusLensErrorCode } from '../core/errors';

/** Codes the app adds on top of the core's (main-thread-only failures). */
export type AppErrorCode = FundusLensErrorCode | 'not-an-image' | 'worker-crashed' | 'unknown';

export interface AppError {
  code: AppErrorCode;
  message: string;
  file?: string;
}

/**
 * Normalise anything thrown across the worker boundary (comlink re-creates Errors
 * without their `code`, so the worker throws plain {name, code, message, file} objects).
 */
export function toAppError(e: unknown): AppError {
  if (isFundusLensError(e)) return { code: e.code, message: e.message, file: e.file };
  if (e && typeof e === 'object') {
    const o = e as { code?: unknown; message?: unknown; file?: unknown };
    const message = typeof o.message === 'string' ? o.message : String(e);
    const code = typeof o.code === 'string' ? (o.code as AppErrorCode) : 'unknown';
    return { code, message, file: typeof o.file === 'string' ? o.file : undefined };
  }
  return { code: 'unknown', message: String(e) };
}

export function cancelledError(): FundusLensError {
  return new FundusLensError('cancelled', 'Analysis cancelled.');
}
