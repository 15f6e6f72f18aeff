import { expect, test } from '@playwright/test';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { APP } from './helpers';

// "A new deployment arrives": the served sw.js changes (same length — the preview server
// caches file sizes — so one byte of its trailing source-map comment is flipped, and
// restored afterwards). The app must offer "reload to update", and a click during an
// analysis must wait for the analysis to finish before reloading.
const SW = resolve(import.meta.dirname, '..', process.env.E2E_DIST ?? 'dist', 'sw.js');

test('new version prompt; reload waits for a running analysis', async ({ page }) => {
  test.setTimeout(240_000);
  const original = readFileSync(SW);
  try {
    await page.goto(APP);
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => !!r?.active)), { timeout: 60_000 }).toBe(true);
    await page.reload(); // a returning visitor: the page is controlled by the service worker
    await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller), { timeout: 60_000 }).toBe(true);

    const next = Buffer.from(original);
    const at = next.lastIndexOf('sw.js.map');
    expect(at).toBeGreaterThan(0);
    next[at + 8] = next[at + 8] === 0x70 ? 0x71 : 0x70; // 'p' <-> 'q'
    writeFileSync(SW, next);
    await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.update()));
    await expect(page.getByText('A new version of FundusLens is ready.')).toBeVisible({ timeout: 60_000 });

    const get = async (f: string) => (await page.request.get(`/samples/${f}`)).body();
    await page.locator('#file-input').setInputFiles([
      { name: 'one.jpg', mimeType: 'image/jpeg', buffer: await get('06-advanced.jpg') },
      { name: 'two.jpg', mimeType: 'image/jpeg', buffer: await get('04-hard-exudates.jpg') },
      { name: 'three.jpg', mimeType: 'image/jpeg', buffer: await get('03-haemorrhages.jpg') },
    ]);
    await expect(page.getByRole('button', { name: 'Cancel analysis', exact: true })).toBeVisible({ timeout: 30_000 });
    await page.evaluate(() => ((window as unknown as { __marker: number }).__marker = 1));
    await page.getByRole('button', { name: 'Reload to update' }).click();
    await expect(page.getByText('Will reload when the current analysis finishes.')).toBeVisible();
    expect(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker)).toBe(1);

    // after the queue is done the page reloads under the new worker: the marker is gone
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { __marker?: number }).__marker ?? 0).catch(() => -1), { timeout: 180_000 })
      .toBe(0);
    await expect(page.getByRole('heading', { level: 1 })).toContainText('FundusLens');
  } finally {
    writeFileSync(SW, original);
  }
});
