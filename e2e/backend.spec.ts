import { expect, test } from '@playwright/test';
import { openSample } from './helpers';

// Without --enable-unsafe-webgpu this Chromium has no WebGPU adapter: asking for WebGPU
// must fall back to the next backend, say so, and show the one in use.
const ARGS_WITHOUT_WEBGPU = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
test.use({ launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ARGS_WITHOUT_WEBGPU } });

test('a forced backend that is not available falls back to the next one with a notice, and the one used is shown', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/?backend=webgpu');
  await openSample(page, /Analyse sample: Hard exudates/);
  await expect(page.getByText(/Compute backend changed: webgpu is not available here; using webgl\./)).toBeVisible();
  await expect(page.getByTestId('backend')).toHaveText('webgl');
  await page.getByText('Settings').click();
  await expect(page.getByText('In use: webgl')).toBeVisible();
});
