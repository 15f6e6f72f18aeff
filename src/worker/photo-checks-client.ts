/**
 * The analysis worker's handle on the photo-checks worker (photo.worker.ts): the gradability
 * gate, FOV and optic disc of a photo computed on another core while this worker runs the
 * model (core analyze()'s `photoChecks` option). On the demo model these checks cost several
 * times the forward pass; beside the model they cost the analysis only the copy of the pixels.
 *
 * Never the reason an analysis fails: when the helper cannot start, dies or answers with an
 * error, the checks run here instead (the same core function), now and for later photos.
 */
import { photoChecks, type PhotoChecks } from '../core/photo-checks';
import type { RgbImage } from '../core/types';

/** Request and reply of the photo-checks worker. */
export type PhotoChecksRequest = { id: number; image: RgbImage };
export type PhotoChecksReply = { id: number; checks: PhotoChecks } | { id: number; error: string };

/** The part of a Worker the client uses (tests pass a fake). */
export interface PhotoChecksEndpoint {
  postMessage(message: PhotoChecksRequest): void;
  addEventListener(type: 'message' | 'error' | 'messageerror', listener: (ev: Event) => void): void;
  terminate(): void;
}

export interface PhotoChecksClient {
  /** the checks of `image`, from the helper when it runs, else computed here */
  check(image: RgbImage): Promise<PhotoChecks>;
  /** starts the helper if needed; true when checks go to it (false: they would run in this thread) */
  available(): boolean;
  terminate(): void;
}

/**
 * @param create builds the helper worker; null (or a throw) = none on this device, and every
 *   check runs in the calling thread
 */
export function createPhotoChecksClient(create: () => PhotoChecksEndpoint | null): PhotoChecksClient {
  let endpoint: PhotoChecksEndpoint | null | undefined; // undefined: not started yet
  let nextId = 1;
  const waiting = new Map<number, { image: RgbImage; resolve: (c: PhotoChecks) => void; reject: (e: unknown) => void }>();

  /** Everything still waiting is checked here; later photos too. */
  const giveUp = (): void => {
    endpoint?.terminate();
    endpoint = null;
    const left = [...waiting.values()];
    waiting.clear();
    for (const w of left) local(w.image).then(w.resolve, w.reject);
  };

  // a macrotask first: the caller (analyze) gets to start the model before this thread is busy
  const local = (image: RgbImage): Promise<PhotoChecks> => new Promise((resolve) => setTimeout(resolve, 0)).then(() => photoChecks(image));

  function start(): PhotoChecksEndpoint | null {
    if (endpoint !== undefined) return endpoint;
    try {
      endpoint = create();
    } catch {
      endpoint = null;
    }
    if (!endpoint) return null;
    endpoint.addEventListener('message', (ev) => {
      const reply = (ev as MessageEvent<PhotoChecksReply>).data;
      const w = waiting.get(reply.id);
      if (!w) return;
      waiting.delete(reply.id);
      // an error there (e.g. invalid pixels) is computed again here, so the caller sees the
      // error exactly as core throws it
      if ('checks' in reply) w.resolve(reply.checks);
      else local(w.image).then(w.resolve, w.reject);
    });
    endpoint.addEventListener('error', giveUp);
    endpoint.addEventListener('messageerror', giveUp);
    return endpoint;
  }

  return {
    check(image) {
      const ep = start();
      if (!ep) return local(image);
      return new Promise<PhotoChecks>((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { image, resolve, reject });
        try {
          // structured clone copies the pixels: this worker keeps its own for the model
          ep.postMessage({ id, image: { width: image.width, height: image.height, channels: image.channels, data: image.data } });
        } catch {
          giveUp();
        }
      });
    },
    available() {
      return start() !== null;
    },
    terminate() {
      giveUp();
    },
  };
}
