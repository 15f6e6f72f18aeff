import { describe, expect, it } from 'vitest';
import { loadSamples } from './samples';
import { fetchModelCard, probeRocs } from './model-card';

type Route = { status?: number; type?: string; body?: string };
function fakeFetch(routes: Record<string, Route>): typeof fetch {
  return (async (input: RequestInfo | URL) => {
    const url = String(input);
    // like `vite preview`: unknown paths get the SPA's index.html with 200
    const r = routes[url] ?? { status: 200, type: 'text/html', body: '<!doctype html>' };
    return new Response(r.body ?? '', { status: r.status ?? 200, headers: { 'content-type': r.type ?? 'application/json' } });
  }) as typeof fetch;
}

const BASE = 'http://app.test/';

describe('samples manifest', () => {
  it('resolves files against the manifest and accepts {samples: [...]} too', async () => {
    const list = [{ file: 'a.jpg', title: 'A', gradable: true }, { nope: 1 }];
    const f = fakeFetch({ 'http://app.test/samples/samples.json': { body: JSON.stringify(list) } });
    const s = await loadSamples(BASE, f);
    expect(s).toEqual([{ file: 'a.jpg', title: 'A', gradable: true, url: 'http://app.test/samples/a.jpg', thumbUrl: 'http://app.test/samples/a.jpg' }]);
    const g = fakeFetch({ 'http://app.test/samples/samples.json': { body: JSON.stringify({ samples: list }) } });
    expect(await loadSamples(BASE, g)).toHaveLength(1);
  });
  it('a sample with a thumbnail shows it on its button; one without (an older manifest) shows the photo itself', async () => {
    const list = [{ file: 'a.jpg', title: 'A', thumb: 'thumbs/a.jpg' }, { file: 'b.jpg', title: 'B', thumb: 7 }];
    const s = await loadSamples(BASE, fakeFetch({ 'http://app.test/samples/samples.json': { body: JSON.stringify(list) } }));
    expect(s.map((x) => x.thumbUrl)).toEqual(['http://app.test/samples/thumbs/a.jpg', 'http://app.test/samples/b.jpg']);
    expect(s[0].url).toBe('http://app.test/samples/a.jpg'); // what is analysed is still the photo
  });
  it('absent (SPA fallback html), 404 or malformed manifest means no samples, not an error', async () => {
    expect(await loadSamples(BASE, fakeFetch({}))).toEqual([]);
    expect(await loadSamples(BASE, fakeFetch({ 'http://app.test/samples/samples.json': { status: 404 } }))).toEqual([]);
    expect(await loadSamples(BASE, fakeFetch({ 'http://app.test/samples/samples.json': { body: '{oops' } }))).toEqual([]);
  });
});

describe('model card metadata', () => {
  const M = 'http://app.test/models/demo/';
  const meta = { name: 'demo', version: '1', labels: [{ id: 'hex' }, { id: 'ma' }], training: { placeholder: true } };
  it('reads metadata.json only (the ROC plots are probed when the card is shown), then finds the plots that exist', async () => {
    const asked: string[] = [];
    const base = fakeFetch({
      [`${M}metadata.json`]: { body: JSON.stringify(meta) },
      [`${M}roc-hex.svg`]: { type: 'image/svg+xml', body: '<svg/>' },
    });
    const f = ((input: RequestInfo | URL, init?: RequestInit) => {
      asked.push(String(input).slice(M.length));
      return base(input, init);
    }) as typeof fetch;
    const card = await fetchModelCard(M, f);
    expect(card.status).toBe('ready');
    expect(card.metadata?.name).toBe('demo');
    expect(card.rocs).toBeUndefined();
    expect(asked).toEqual(['metadata.json']); // one request at start-up
    expect(await probeRocs(M, card.metadata!, f)).toEqual([{ name: 'hex', url: `${M}roc-hex.svg` }]);
  });
  it('probes the later evaluations\' ROC plots under the eval<k>- prefix export gives them', async () => {
    const three = { ...meta, evaluation: [{ dataset: 'a' }, { dataset: 'b' }, { dataset: 'c' }] };
    const probed: string[] = [];
    const base = fakeFetch({
      [`${M}metadata.json`]: { body: JSON.stringify(three) },
      [`${M}roc-hex.svg`]: { type: 'image/svg+xml', body: '<svg/>' },
      [`${M}eval3-roc-red.svg`]: { type: 'image/svg+xml', body: '<svg/>' },
    });
    const f = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (init?.method === 'HEAD') probed.push(String(input).slice(M.length));
      return base(input, init);
    }) as typeof fetch;
    const card = await fetchModelCard(M, f);
    expect(await probeRocs(M, card.metadata!, f)).toEqual([
      { name: 'hex', url: `${M}roc-hex.svg` },
      { name: 'eval3-red', url: `${M}eval3-roc-red.svg` },
    ]);
    expect(probed).toHaveLength(3 * 4);
    expect(probed).toEqual(expect.arrayContaining(['roc-dr.svg', 'eval2-roc-ma.svg', 'eval3-roc-hex.svg']));
    expect(probed).not.toContain('eval4-roc-dr.svg');
    // a bundle without evaluations probes the first set only, as before
    probed.length = 0;
    await probeRocs(M, meta as never, ((input: RequestInfo | URL, init?: RequestInit) => {
      if (init?.method === 'HEAD') probed.push(String(input).slice(M.length));
      return fakeFetch({})(input, init);
    }) as typeof fetch);
    expect(probed.sort()).toEqual(['roc-dr.svg', 'roc-hex.svg', 'roc-ma.svg', 'roc-red.svg']);
  });
  it('names the missing or broken file', async () => {
    expect(await fetchModelCard(M, fakeFetch({}))).toMatchObject({ status: 'error', error: { code: 'model-missing-file', file: 'metadata.json' } });
    expect(await fetchModelCard(M, fakeFetch({ [`${M}metadata.json`]: { body: 'nope' } }))).toMatchObject({ status: 'error', error: { code: 'model-bad-metadata' } });
    expect(await fetchModelCard(M, fakeFetch({ [`${M}metadata.json`]: { body: '{"labels": 3}' } }))).toMatchObject({ status: 'error', error: { code: 'model-bad-metadata' } });
  });
});
