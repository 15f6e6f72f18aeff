import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { APP, openSample } from './helpers';

/** One online visit until the service worker controls the page, then the network off and a reload from its cache. */
async function visitOnceThenGoOffline(page: Page, context: BrowserContext): Promise<void> {
  await page.goto(APP);
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  await page.reload();
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller), { timeout: 60_000 }).toBe(true);
  await context.setOffline(true);
  await page.reload();
}

test('after one visit the app works with the network off (service worker precache: app, wasm, model, samples)', async ({ page, context }) => {
  test.setTimeout(240_000);
  await visitOnceThenGoOffline(page, context);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('FundusLens');
  await openSample(page, /Analyse sample: Hard exudates/);
  await expect(page.getByTestId('backend')).toHaveText('wasm');
  await context.setOffline(false);
});

test('offline: save a record, reload with the network off, the record and its report are still there', async ({ page, context }) => {
  test.setTimeout(240_000);
  await visitOnceThenGoOffline(page, context);
  await openSample(page, /Analyse sample: Healthy retina/);
  const form = page.locator('section.save-record');
  await form.getByLabel('Patient identifier').fill('OFFLINE-9');
  await form.getByRole('radio', { name: 'Left eye (OS)' }).check();
  await form.getByRole('button', { name: 'Save record' }).click();
  await expect(page.getByTestId('record-saved')).toBeVisible();
  await page.reload();
  await page.getByRole('link', { name: 'Records', exact: true }).click();
  await page.getByRole('row', { name: /OFFLINE-9/ }).getByRole('link').first().click();
  await expect(page.getByTestId('record-patient')).toHaveText('OFFLINE-9');
  await expect(page.getByTestId('annotated-photo')).toBeVisible();
  const [pdf] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download PDF report' }).click()]);
  expect(await pdf.failure()).toBeNull();
  await context.setOffline(false);
});

test('first visit: the service worker registers only after the model is in and the first result is on screen, then controls the page', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto(APP);
  await openSample(page, /Analyse sample: Healthy retina/);
  const marks = async () =>
    page.evaluate(() => Object.fromEntries(performance.getEntriesByType('mark').filter((m) => m.name.startsWith('funduslens:')).map((m) => [m.name.slice(11), m.startTime])));
  await expect.poll(async () => (await marks())['sw-register'] !== undefined, { timeout: 60_000 }).toBe(true);
  const m = await marks();
  // the precache (~15 MB, and the browser compiling the cached scripts) must not compete with loading and the first analysis
  expect(m['sw-register']).toBeGreaterThan(m['model-ready']);
  expect(m['sw-register']).toBeGreaterThan(m['result']);
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  await page.reload();
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller), { timeout: 60_000 }).toBe(true);
});
