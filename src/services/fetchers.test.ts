import { describe, expect, it } from 'vitest';
import { loadSamples } from './samples';
import { fetchModelCard } from './model-card';

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
    expect(s).toEqual([{ file: 'a.jpg', title: 'A', gradable: true, url: 'http://app.test/samples/a.jpg' }]);
    const g = fakeFetch({ 'http://app.test/samples/samples.json': { body: JSON.stringify({ samples: list }) } });
    expect(await loadSamples(BASE, g)).toHaveLength(1);
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
  it('reads metadata.json and finds the ROC plots that exist', async () => {
    const f = fakeFetch({
      [`${M}metadata.json`]: { body: JSON.stringify(meta) },
      [`${M}roc-hex.svg`]: { type: 'image/svg+xml', body: '<svg/>' },
    });
    const card = await fetchModelCard(M, f);
    expect(card.status).toBe('ready');
    expect(card.metadata?.name).toBe('demo');
    expect(card.rocs).toEqual([{ name: 'hex', url: `${M}roc-hex.svg` }]);
  });
  it('names the missing or broken file', async () => {
    expect(await fetchModelCard(M, fakeFetch({}))).toMatchObject({ status: 'error', error: { code: 'model-missing-file', file: 'metadata.json' } });
    expect(await fetchModelCard(M, fakeFetch({ [`${M}metadata.json`]: { body: 'nope' } }))).toMatchObject({ status: 'error', error: { code: 'model-bad-metadata' } });
    expect(await fetchModelCard(M, fakeFetch({ [`${M}metadata.json`]: { body: '{"labels": 3}' } }))).toMatchObject({ status: 'error', error: { code: 'model-bad-metadata' } });
  });
});
