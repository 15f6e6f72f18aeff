import { expect, test } from '@playwright/test';
import { APP, openSample } from './helpers';

test('after one visit the app works with the network off (service worker precache: app, wasm, model, samples)', async ({ page, context }) => {
  test.setTimeout(240_000);
  await page.goto(APP);
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  await page.reload();
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller), { timeout: 60_000 }).toBe(true);
  await context.setOffline(true);
  await page.reload();
  await expect(page.getByRole('heading', { level: 1 })).toContainText('FundusLens');
  await openSample(page, /Analyse sample: Hard exudates/);
  await expect(page.getByTestId('backend')).toHaveText('wasm');
  await context.setOffline(false);
});
