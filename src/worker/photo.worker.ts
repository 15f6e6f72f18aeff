/**
 * The photo-checks worker: runs core's photoChecks (FOV, gradability gate, optic disc) on pixels
 * the analysis worker posts, so they are computed on another core while the model runs. No
 * tfjs here: this bundle is small and starts fast. See photo-checks-client.ts.
 */
import { photoChecks } from '../core/photo-checks';
import type { PhotoChecksReply, PhotoChecksRequest } from './photo-checks-client';

const scope = self as unknown as { onmessage: ((ev: MessageEvent<PhotoChecksRequest>) => void) | null; postMessage(m: PhotoChecksReply): void };

scope.onmessage = (ev) => {
  const { id, image } = ev.data;
  try {
    scope.postMessage({ id, checks: photoChecks(image) });
  } catch (e) {
    scope.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
};
