import { isServedFile } from './http';

/** The bundled demo samples (public/samples/samples.json, written by the synth helper). */
export interface Sample {
  file: string;
  title: string;
  description?: string;
  labels?: Record<string, number> | string[];
  gradable?: boolean;
  /** absolute URL resolved against samples.json */
  url: string;
  /** absolute URL of the small picture for the sample's button: the manifest's `thumb`, else the photo itself */
  thumbUrl: string;
}

/** Reads the manifest; an absent or malformed one means "no samples" (never an error page). */
export async function loadSamples(base: string, fetchFn: typeof fetch = fetch): Promise<Sample[]> {
  const manifest = new URL('samples/samples.json', base).href;
  try {
    const res = await fetchFn(manifest);
    if (!isServedFile(res)) return [];
    const json: unknown = await res.json();
    const list = Array.isArray(json) ? json : Array.isArray((json as { samples?: unknown }).samples) ? (json as { samples: unknown[] }).samples : [];
    return list
      .filter((s): s is Omit<Sample, 'url' | 'thumbUrl'> & { thumb?: unknown } => !!s && typeof (s as Sample).file === 'string')
      .map((s) => {
        const url = new URL(s.file, manifest).href;
        return { ...s, title: typeof s.title === 'string' ? s.title : s.file, url, thumbUrl: typeof s.thumb === 'string' ? new URL(s.thumb, manifest).href : url };
      });
  } catch {
    return [];
  }
}

export async function fetchSampleBlob(s: Sample, fetchFn: typeof fetch = fetch): Promise<Blob> {
  const res = await fetchFn(s.url);
  if (!res.ok) throw new Error(`Sample ${s.file} is missing (${res.status}).`);
  return res.blob();
}
