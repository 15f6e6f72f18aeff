import { expect, test } from '@playwright/test';
import { APP, openSample } from './helpers';

/**
 * Some hosts send Cross-Origin-Opener-Policy / Cross-Origin-Embedder-Policy (to enable SharedArrayBuffer for other
 * apps). The page is then cross-origin isolated, and tfjs would pick its multi-threaded wasm build, whose pthread
 * workers load the main script with importScripts: our bundled ES-module worker is no classic script, the workers
 * fail, and the model never finished loading (measured: no result after 120 s). The analysis worker opts out of
 * the threaded build, so the app must work on such a host exactly as on any other.
 */
test('on a host that sends COOP/COEP (cross-origin isolated) the app loads the model and analyses on wasm', async ({ browser, baseURL }) => {
  test.setTimeout(180_000);
  // routing needs the service worker out of the way (it would answer from its cache, without these headers)
  const context = await browser.newContext({ baseURL, serviceWorkers: 'block' });
  await context.route('**/*', async (route) => {
    const response = await route.fetch();
    await route.fulfill({
      response,
      headers: { ...response.headers(), 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' },
    });
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(APP);
  expect(await page.evaluate(() => globalThis.crossOriginIsolated), 'the page is cross-origin isolated').toBe(true);
  await openSample(page, /Analyse sample: Hard exudates/);
  await expect(page.getByTestId('backend')).toHaveText('wasm');
  expect(errors).toEqual([]);
  await context.close();
});
