import { afterEach, describe, expect, it, vi } from 'vitest';
import { fetchReader } from './fetch-reader';

afterEach(() => vi.unstubAllGlobals());

/** a fetch that answers from `files` when told to, recording what was asked */
function gatedFetch(files: Record<string, string | { status: number } | 'network-error' | 'html'>) {
  const asked: string[] = [];
  const waiting: (() => void)[] = [];
  const fetch = vi.fn((url: string) => {
    asked.push(url);
    return new Promise<Response>((ok, fail) =>
      waiting.push(() => {
        const f = files[new URL(url).pathname.split('/').pop()!];
        if (f === undefined) ok(new Response('nope', { status: 404 }));
        else if (f === 'network-error') fail(new TypeError('Failed to fetch'));
        else if (f === 'html') ok(new Response('<!doctype html>', { headers: { 'content-type': 'text/html' } }));
        else if (typeof f === 'object') ok(new Response('', { status: f.status }));
        else ok(new Response(f, { headers: { 'content-type': 'application/octet-stream' } }));
      }),
    );
  });
  return { fetch, asked, release: () => waiting.splice(0).forEach((go) => go()) };
}

describe('fetchReader (the worker reads the model bundle over HTTP)', () => {
  it('a file asked for twice while its first read is in flight is fetched once, both get the same bytes', async () => {
    const g = gatedFetch({ 'a.bin': 'abc' });
    vi.stubGlobal('fetch', g.fetch);
    const r = fetchReader('https://clinic.example/models/demo/');
    const first = r.read('a.bin');
    const second = r.read('a.bin');
    g.release();
    const [x, y] = await Promise.all([first, second]);
    expect(new TextDecoder().decode(x!)).toBe('abc');
    expect(y).toBe(x);
    expect(await r.read('a.bin')).toBe(x); // and later, from memory
    expect(g.asked).toEqual(['https://clinic.example/models/demo/a.bin']);
  });

  it('missing (404, or the SPA page a preview server sends instead), failed reads are null and are fetched again next time', async () => {
    const g = gatedFetch({ 'gone.bin': { status: 404 }, 'spa.bin': 'html', 'down.bin': 'network-error' });
    vi.stubGlobal('fetch', g.fetch);
    const r = fetchReader('https://clinic.example/m/');
    for (const f of ['gone.bin', 'spa.bin', 'down.bin']) {
      const p = r.read(f);
      g.release();
      expect(await p).toBeNull();
      const again = r.read(f);
      g.release();
      expect(await again).toBeNull();
    }
    expect(g.asked.length).toBe(6); // every one asked twice: a retry after a failure goes to the network
  });
});
