import { expect, test, type Page } from '@playwright/test';
import { analyseAnywayIfNeeded, openSample } from './helpers';

// WebGL runs its own kernels, and the input gradients of guided backprop through our rewrite
// (src/core/backends/conv-input-grad.ts); wasm runs ours (wasm-gradients.ts). The same photo must give the same
// outlines (from Grad-CAM) and the same Guided Grad-CAM map on both.

interface Seen {
  outlines: { name: string; score: number }[];
  /** the Guided Grad-CAM overlay's opacity summed over a 96×96 grid */
  guided: number[];
}

async function analyseOn(page: Page, backend: 'wasm' | 'webgl'): Promise<Seen> {
  await page.goto(`/?backend=${backend}`);
  await openSample(page, /Analyse sample: All four lesion types/);
  await analyseAnywayIfNeeded(page);
  await expect(page.getByTestId('backend')).toHaveText(backend);
  await page.locator('details.findings > summary').click();
  const items = await page.locator('details.findings li').allTextContents();
  const outlines = items.map((t) => {
    const m = /^(.*?)([-\d.]+)\D*$/.exec(t.trim());
    return { name: (m?.[1] ?? t).trim(), score: Number(m?.[2]) };
  });
  await page.getByRole('radio', { name: 'Guided Grad-CAM' }).check();
  await expect(page.locator('[data-overlay-ready]')).toHaveAttribute('data-overlay-ready', 'guided', { timeout: 180_000 });
  const guided = await page.getByTestId('overlay-layer').evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const n = 96;
    const grid = new Array(n * n).fill(0);
    for (let y = 0; y < c.height; y++)
      for (let x = 0; x < c.width; x++) grid[Math.floor((y * n) / c.height) * n + Math.floor((x * n) / c.width)] += d[(y * c.width + x) * 4 + 3];
    return grid;
  });
  return { outlines, guided };
}

function correlation(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

test('WebGL gives the outlines and the Guided Grad-CAM map of wasm for the same photo', async ({ page }) => {
  test.setTimeout(420_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const wasm = await analyseOn(page, 'wasm');
  const webgl = await analyseOn(page, 'webgl');
  expect(wasm.outlines.length).toBeGreaterThan(0);
  expect(webgl.outlines.map((o) => o.name)).toEqual(wasm.outlines.map((o) => o.name));
  webgl.outlines.forEach((o, i) => expect(Math.abs(o.score - wasm.outlines[i].score)).toBeLessThanOrEqual(0.011));
  // a map that is there, and the same one
  expect(wasm.guided.filter((v) => v > 0).length).toBeGreaterThan(20);
  const r = correlation(webgl.guided, wasm.guided);
  console.log(`Guided Grad-CAM overlay, WebGL vs wasm: correlation ${r.toFixed(4)} over 96×96 cells`);
  expect(r).toBeGreaterThan(0.98);
  expect(errors).toEqual([]);
});
