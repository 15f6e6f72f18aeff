import type { BundleReader } from '../core/model';
import { isServedFile } from '../services/http';

/**
 * Reads bundle files from `base` over HTTP(S) and keeps their bytes, so a backend switch reloads without the
 * network. A file asked for again gets the same bytes, also while its first read is still in flight (prefetchBundle
 * at init, then loadBundle); a failed or missing read is forgotten, so a retry fetches again.
 */
export function fetchReader(base: string): BundleReader {
  const cache = new Map<string, Promise<Uint8Array | null>>();
  const get = async (path: string): Promise<Uint8Array | null> => {
    let res: Response;
    try {
      res = await fetch(new URL(path, base).href);
    } catch {
      return null;
    }
    if (!isServedFile(res)) return null;
    return new Uint8Array(await res.arrayBuffer());
  };
  return {
    read(path: string) {
      let p = cache.get(path);
      if (!p) {
        p = get(path);
        cache.set(path, p);
        p.then(
          (bytes) => bytes === null && cache.get(path) === p && cache.delete(path),
          () => cache.get(path) === p && cache.delete(path),
        );
      }
      return p;
    },
  };
}
