import type { ModelMetadata } from '../core/types';
import type { ModelCardData } from '../store';

/**
 * metadata.json read on the main thread, for the disclaimer and the model card. The
 * worker validates the bundle for real (schema, hashes) when it loads the model; here a
 * light shape check is enough, and no tfjs code enters the page.
 */
export async function fetchModelCard(modelUrl: string, fetchFn: typeof fetch = fetch): Promise<ModelCardData> {
  const url = new URL('metadata.json', modelUrl).href;
  let res: Response;
  try {
    res = await fetchFn(url);
  } catch (e) {
    return { status: 'error', error: { code: 'model-missing-file', message: `metadata.json could not be fetched (${String(e)})`, file: 'metadata.json' } };
  }
  if (!res.ok || (res.headers.get('content-type') ?? '').includes('text/html')) {
    return { status: 'error', error: { code: 'model-missing-file', message: 'metadata.json is missing from the model bundle.', file: 'metadata.json' } };
  }
  let meta: ModelMetadata;
  try {
    meta = (await res.json()) as ModelMetadata;
  } catch {
    return { status: 'error', error: { code: 'model-bad-metadata', message: 'metadata.json is not valid JSON.', file: 'metadata.json' } };
  }
  if (!meta || typeof meta !== 'object' || !Array.isArray(meta.labels) || typeof meta.name !== 'string') {
    return { status: 'error', error: { code: 'model-bad-metadata', message: 'metadata.json lacks name or labels.', file: 'metadata.json' } };
  }
  // ROC plots are optional report files next to model.json; probe the conventional names.
  const names = ['dr', 'red', ...meta.labels.map((l) => l.id)];
  const probes = await Promise.all(
    names.map(async (n) => {
      const u = new URL(`roc-${n}.svg`, modelUrl).href;
      try {
        const r = await fetchFn(u, { method: 'HEAD' });
        return r.ok && (r.headers.get('content-type') ?? '').includes('svg') ? { name: n, url: u } : null;
      } catch {
        return null;
      }
    }),
  );
  return { status: 'ready', metadata: meta, rocs: probes.filter((p): p is { name: string; url: string } => p !== null) };
}

export function isPlaceholder(meta: ModelMetadata | undefined): boolean {
  return !!meta && (meta.training as { placeholder?: unknown } | undefined)?.placeholder === true;
}
